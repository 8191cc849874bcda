"""Reminders about remediation orders, by mail: to the follow-up person and the nearest
area managers, ORDER_REMINDER_DAYS_BEFORE days before a deadline and once it has passed;
and a daily digest to each area manager of the orders in their areas that need them.

Each is sent exactly once: a reminder per order, kind and deadline (a moved deadline
earns new ones), a digest per manager and day. The record of a mail and the mail go
together: the record is written first in a transaction that the failed mail undoes, so
a run that fails is simply run again. `send_due_reminders` is what the job worker (or
the `send_order_reminders` command, from cron) runs; it may run as often as wanted."""

import datetime as dt
import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import Membership, Role, User
from common.urls import absolute_url

from .filters import FOLLOWED_UP, order_q
from .models_remediation import WAITING_FOR_OWNER, DigestSent, OrderReminder, RemediationOrder
from .order_selectors import FOLLOW_UP_LISTS, follow_up_counts, managers_of, orders_for

log = logging.getLogger(__name__)


def _recipients(order: RemediationOrder) -> list[str]:
    people = [order.follow_up, *managers_of(order.site.area)]
    return sorted({p.email for p in people if p is not None and p.is_active and p.email})


def _order_url(order: RemediationOrder) -> str:
    return absolute_url(reverse("order-detail", args=[order.pk]))


def _send_reminder(order: RemediationOrder, kind: str, now: dt.datetime) -> bool:
    recipients = _recipients(order)
    if not recipients:
        return False
    try:
        with transaction.atomic():
            OrderReminder.objects.create(
                order=order, kind=kind, deadline=order.deadline, sent_at=now, recipients=recipients
            )
            context = {"order": order, "kind": kind, "url": _order_url(order), "today": timezone.localdate(now)}
            subject = (
                _("Deadline in %(days)s days: %(site)s")
                if kind == OrderReminder.Kind.BEFORE
                else _("Deadline passed: %(site)s")
            ) % {
                "days": (order.deadline - timezone.localdate(now)).days,
                "site": f"{order.site.code} {order.site.name}",
            }
            send_mail(subject, render_to_string("orders/reminder.txt", context), None, recipients)
    except IntegrityError:
        return False  # another run sent it a moment ago
    return True


def _digest(manager: User, today: dt.date, now: dt.datetime) -> bool:
    orders = orders_for(manager)
    counts = follow_up_counts(orders, today)
    if not manager.email or not any(counts[k] for k in ("overdue", "due_week", "done")):
        return False
    lists = [
        (name, list(orders.filter(order_q(name, today)).order_by("deadline")[:50]))
        for name in FOLLOW_UP_LISTS
        if name != "unverified"
    ]
    try:
        with transaction.atomic():
            DigestSent.objects.create(user=manager, day=today, sent_at=now)
            context = {"manager": manager, "lists": lists, "counts": counts, "today": today,
                       "url": absolute_url(reverse("order-list"))}  # fmt: skip
            subject = _("Remediation orders on %(day)s: %(overdue)s overdue, %(done)s awaiting verification") % {
                "day": f"{today:%d/%m/%Y}",
                "overdue": counts["overdue"],
                "done": counts["done"],
            }
            send_mail(subject, render_to_string("orders/digest.txt", context), None, [manager.email])
    except IntegrityError:
        return False
    return True


def send_due_reminders(now: dt.datetime | None = None) -> dict[str, int]:
    """Send every reminder and digest due at `now` that was not sent yet."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    orders = RemediationOrder.objects.select_related("site__area", "follow_up")
    soon = today + dt.timedelta(days=settings.ORDER_REMINDER_DAYS_BEFORE)
    before = orders.filter(FOLLOWED_UP, state__in=WAITING_FOR_OWNER, deadline__gte=today, deadline__lte=soon).exclude(
        _reminded(OrderReminder.Kind.BEFORE)
    )
    after = orders.filter(order_q("overdue", today)).exclude(_reminded(OrderReminder.Kind.AFTER))
    sent = {"before": 0, "after": 0, "digests": 0}
    with translation.override(settings.LANGUAGE_CODE):
        for kind, orders in ((OrderReminder.Kind.BEFORE, before), (OrderReminder.Kind.AFTER, after)):
            for order in orders.order_by("deadline"):
                sent[kind] += _send_reminder(order, kind, now)
        managers = User.objects.filter(
            Q(pk__in=Membership.objects.filter(role=Role.AREA_MANAGER).values("user_id")), is_active=True
        ).exclude(email="")
        for manager in managers.order_by("username"):
            sent["digests"] += _digest(manager, today, now)
    log.info("order reminders sent", extra={"sent": sent})
    return sent


def _reminded(kind: str) -> Exists:
    """The order already had this kind of reminder for its current deadline."""
    return Exists(OrderReminder.objects.filter(order=OuterRef("pk"), kind=kind, deadline=OuterRef("deadline")))
