"""Reminders about remediation orders: before and after the deadline to the follow-up
person and the nearest managers, a daily digest per manager, each sent exactly once."""

import datetime as dt
import time

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command

from accounts.models import Role
from hazards import lifecycle, orders, services
from hazards.models import OrderReminder
from hazards.reminders import send_due_reminders

pytestmark = pytest.mark.django_db

TZ = dt.timezone(dt.timedelta(hours=7))


def at(day: int, month: int = 4, hour: int = 8) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, 0, tzinfo=TZ)


@pytest.fixture
def clock():
    with time_machine.travel(at(1), tick=False) as traveller:
        yield traveller


@pytest.fixture
def order(clock, demo_tree, make_user, make_site):
    commune_manager = make_user("xa", demo_tree["99101"], Role.AREA_MANAGER, email="xa@example.vn")
    make_user("huyen", demo_tree["991"], Role.AREA_MANAGER, email="huyen@example.vn")
    worker = make_user("canbo", demo_tree["99101"], Role.FIELD_WORKER, email="canbo@example.vn")
    site = make_site(demo_tree["99101"], actor=commune_manager, name="Ao đình")
    return orders.order_open(
        actor=commune_manager, site=site, party_kind="household", party_name="Hộ ông Ba", requirements=["sign"],
        deadline=dt.date(2026, 4, 10), follow_up=worker,
    )  # fmt: skip


# Mail goes out in the registry's language, Vietnamese.
REMINDER = "hạn: "  # "Còn 3 ngày đến hạn: …", "Đã quá hạn: …"
DIGEST = "Yêu cầu khắc phục ngày"


def reminders_to(address: str) -> list[str]:
    return [m.subject for m in mail.outbox if address in m.to and REMINDER in m.subject]


def test_before_and_after_the_deadline_once_each(order, clock):
    assert send_due_reminders()["before"] == 0  # nine days ahead: too early
    clock.move_to(at(7))
    assert send_due_reminders() == {"before": 1, "after": 0, "digests": 2}  # district and commune
    message = next(m for m in mail.outbox if REMINDER in m.subject)
    # The follow-up person and the nearest managers (the commune's, not the district's).
    assert sorted(message.to) == ["canbo@example.vn", "xa@example.vn"]
    assert "Còn 3 ngày đến hạn: " + order.site.code in message.subject
    assert "Hộ ông Ba" in message.body and f"/orders/{order.pk}/" in message.body
    assert "Thời hạn của yêu cầu khắc phục này là 10/04/2026." in message.body
    clock.move_to(at(7, hour=15))
    assert send_due_reminders() == {"before": 0, "after": 0, "digests": 0}  # same day: nothing again
    clock.move_to(at(9))
    assert send_due_reminders()["before"] == 0  # the before-reminder went already
    clock.move_to(at(11))
    assert send_due_reminders()["after"] == 1
    clock.move_to(at(12))
    assert send_due_reminders()["after"] == 0
    assert len(reminders_to("canbo@example.vn")) == 2


def test_a_moved_deadline_earns_new_reminders_and_done_orders_none(order, clock):
    clock.move_to(at(8))
    send_due_reminders()
    orders.order_update(actor=order.opened_by, order=order, deadline=dt.date(2026, 4, 20))
    clock.move_to(at(18))
    assert send_due_reminders()["before"] == 1
    orders.order_mark_done(actor=order.follow_up, order=order)
    clock.move_to(at(25))
    assert send_due_reminders()["after"] == 0  # done: it waits for the inspection, not the owner
    assert OrderReminder.objects.filter(order=order).count() == 2


def test_daily_digest_per_manager_once_a_day(order, clock):
    clock.move_to(at(11))
    call_command("send_order_reminders")
    digests = [m for m in mail.outbox if DIGEST in m.subject]
    # Both managers' areas hold the overdue order; each gets one digest.
    assert sorted(m.to[0] for m in digests) == ["huyen@example.vn", "xa@example.vn"]
    assert "1 quá hạn" in digests[0].subject and "Ao đình" in digests[0].body
    call_command("send_order_reminders")
    assert len([m for m in mail.outbox if DIGEST in m.subject]) == 2
    clock.move_to(at(12))
    send_due_reminders()
    assert len([m for m in mail.outbox if DIGEST in m.subject]) == 4


def test_the_job_worker_sends_them_every_hour(order, clock):
    from procrastinate.contrib.django import app

    from hazards.tasks import send_order_reminders

    assert any(p.periodic_id == "send_order_reminders" for p in app.periodic_registry.periodic_tasks.values())
    clock.move_to(at(11))
    send_order_reminders(timestamp=int(time.time()))
    assert reminders_to("canbo@example.vn") == [f"Đã quá hạn: {order.site.code} {order.site.name}"]


@pytest.mark.parametrize("gone", ["closed", "deleted"])
def test_no_reminder_for_the_order_of_a_site_closed_or_deleted(order, clock, gone):
    manager = order.opened_by
    if gone == "closed":
        lifecycle.site_close(actor=manager, site=order.site, reason="filled_in")
    else:
        services.site_delete(actor=manager, site=order.site)
    clock.move_to(at(7))
    assert send_due_reminders() == {"before": 0, "after": 0, "digests": 0}
    clock.move_to(at(11))
    assert send_due_reminders() == {"before": 0, "after": 0, "digests": 0}
    assert mail.outbox == []
