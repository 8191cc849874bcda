"""A password a manager set is known to that manager: it signs in only while they may
still manage its holder (pentest 5, A: a district manager reset a worker's password, an
administrator then made the worker a field worker of another district too, and the
manager signed in as the worker and read that district). So is the password its holder
changes it to (the manager could have made that change, pentest 6), and a superuser's
reset (while that superuser is active). A password given outside these pages, and what
its holder changes that to, is nobody else's."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Membership, Role, User
from accounts.tokens import token_issue

pytestmark = pytest.mark.django_db

SET = "Mat-khau-quan-ly-2026!"
OWN = "Mat-khau-cua-toi-2026!"
PASSWORD = "pw-Secret-123"  # make_user's: set by nobody else
REFUSAL = "This password was set by a manager who no longer manages your account"


@pytest.fixture
def people(demo_tree, make_user):
    manager = make_user("quanly", demo_tree["991"], Role.AREA_MANAGER, is_staff=True)
    worker = make_user("canbo", demo_tree["99101"], Role.FIELD_WORKER)
    return {"manager": manager, "worker": worker, "tree": demo_tree}


def set_by(actor, person) -> None:
    client = Client()
    client.force_login(actor)
    response = client.post(
        reverse("admin:auth_user_password_change", args=[person.pk]),
        {"password1": SET, "password2": SET, "usable_password": "true"},
    )
    assert response.status_code == 302


def sign_in(password, username="canbo") -> tuple[Client, str]:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    response = client.post(reverse("login"), {"username": username, "password": password})
    return client, response.content.decode() if response.status_code == 200 else ""


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def moved(people, area="99201", role=Role.FIELD_WORKER) -> None:
    Membership.objects.create(user=people["worker"], area=people["tree"][area], role=role)


def test_a_password_the_manager_set_signs_in_while_they_manage_its_holder(people):
    set_by(people["manager"], people["worker"])
    assert User.objects.get(pk=people["worker"].pk).password_set_by == people["manager"]
    client, _page = sign_in(SET)
    assert signed_in(client)


@pytest.mark.parametrize(
    ("area", "role"),
    [("99201", Role.FIELD_WORKER), ("99", Role.VIEWER)],
    ids=["sideways: another district", "upward: the province"],
)
def test_it_stops_once_the_holder_has_roles_beyond_the_manager(people, area, role):
    set_by(people["manager"], people["worker"])
    client, _page = sign_in(SET)
    assert signed_in(client)
    moved(people, area, role)
    # A session signed in with it ends at its next request…
    client.get(reverse("survey"))
    assert not signed_in(client)
    # …and the password signs in no more, saying what to do.
    client, page = sign_in(SET)
    assert not signed_in(client) and REFUSAL in page


def test_it_stops_when_the_manager_who_set_it_is_deactivated(people):
    set_by(people["manager"], people["worker"])
    people["manager"].is_active = False
    people["manager"].save()
    client, page = sign_in(SET)
    assert not signed_in(client) and REFUSAL in page


def test_a_password_changed_from_one_the_manager_set_is_still_theirs_to_know(people):
    """Whoever knew the old password may be who changed it: the manager signed in as the
    worker with the password they set, chose a new one on the worker's password page, and
    kept signing in as the worker after the worker was given another district (pentest 6)."""
    set_by(people["manager"], people["worker"])
    client, _page = sign_in(SET)
    response = client.post(
        reverse("password-change"), {"old_password": SET, "new_password1": OWN, "new_password2": OWN}
    )
    assert response.status_code == 302
    assert User.objects.get(pk=people["worker"].pk).password_set_by == people["manager"]
    moved(people)
    client, page = sign_in(OWN)
    assert not signed_in(client) and REFUSAL in page


def test_the_holder_s_own_password_is_theirs_whatever_their_roles(people):
    """A password nobody else knew (here one given outside the registry's pages), changed
    by its holder, stays theirs."""
    client, _page = sign_in(PASSWORD)
    response = client.post(
        reverse("password-change"), {"old_password": PASSWORD, "new_password1": OWN, "new_password2": OWN}
    )
    assert response.status_code == 302
    assert User.objects.get(pk=people["worker"].pk).password_set_by is None
    moved(people)
    client, _page = sign_in(OWN)
    assert signed_in(client)


def test_a_superuser_s_reset_ends_when_that_superuser_is_deactivated(people, make_user):
    """A superuser manages everyone, but only while active: one who left kept signing in
    as everyone whose password they had reset, where a key they issued stopped (pentest 6)."""
    admin = make_user("admin2", is_superuser=True, is_staff=True)
    set_by(admin, people["worker"])
    client, _page = sign_in(SET)
    assert signed_in(client)
    admin.is_active = False
    admin.save()
    client.get(reverse("survey"))
    assert not signed_in(client)
    client, page = sign_in(SET)
    assert not signed_in(client) and REFUSAL in page


def test_a_superuser_s_reset_and_an_account_a_manager_made(people, superuser):
    set_by(superuser, people["worker"])
    moved(people)
    client, _page = sign_in(SET)
    assert signed_in(client)
    # An account made by a manager with a password they typed is theirs to know too.
    maker = Client()
    maker.force_login(people["manager"])
    rows = {
        "memberships-TOTAL_FORMS": "1", "memberships-INITIAL_FORMS": "0", "memberships-MIN_NUM_FORMS": "0",
        "memberships-0-area": people["tree"]["99102"].pk, "memberships-0-role": Role.FIELD_WORKER,
    }  # fmt: skip
    response = maker.post(
        reverse("admin:accounts_user_add"),
        {"username": "moi", "password1": SET, "password2": SET, "usable_password": "true", **rows},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert User.objects.get(username="moi").password_set_by == people["manager"]


def test_passwords_set_before_the_binding_are_bound_from_the_audit_trail(people, make_user):
    """The binding came with 0018 and left the passwords already set bound to nobody, as
    were a superuser's resets and a holder's own change of a manager's password until 0020
    (pentest 6): 0020 reads who set each from the audit trail."""
    from importlib import import_module

    from django.apps import apps

    backfill = import_module("accounts.migrations.0020_password_set_by_from_audit").password_setters_from_audit
    admin = make_user("admin2", is_superuser=True, is_staff=True)
    other = make_user("khac", people["tree"]["99102"], Role.FIELD_WORKER)  # make_user: set outside the pages
    set_by(people["manager"], people["worker"])
    client, _page = sign_in(SET)
    client.post(reverse("password-change"), {"old_password": SET, "new_password1": OWN, "new_password2": OWN})
    set_by(admin, people["manager"])
    User.objects.update(password_set_by=None)  # as before the binding
    backfill(apps, None)
    bound = dict(User.objects.values_list("username", "password_set_by__username"))
    assert bound["canbo"] == "quanly" and bound["quanly"] == "admin2" and bound[other.username] is None


def test_what_a_manager_made_is_known_to_whoever_knew_their_password(people, make_user, superuser):
    """A province manager set a district manager's password, signed in as them, issued a
    GIS key for a worker, spent a pairing code for the worker's tablet and set another
    worker's password; once the province manager is deactivated, all three stop, as the
    district manager's password does (pentest 7). A key or password the district manager
    makes later, after a new password of nobody else's, is theirs alone."""
    from accounts.pairing import pairing_complete, pairing_start
    from accounts.services import user_deactivate
    from accounts.tokens import token_issue

    province = make_user("quanly.tinh", people["tree"]["99"], Role.AREA_MANAGER, is_staff=True)
    district, worker = people["manager"], people["worker"]
    other = make_user("canbo.hai", people["tree"]["99101"], Role.FIELD_WORKER)
    set_by(province, district)
    district.refresh_from_db()
    _token, gis_key = token_issue(actor=district, user=worker, name="QGIS")
    code = pairing_start(actor=district, user=worker, name="Máy tính bảng")[1]
    tablet_key = pairing_complete(code=code, device_name="").key
    set_by(district, other)

    def works(key) -> bool:
        return Client().get(reverse("site-list"), HTTP_AUTHORIZATION=f"Token {key}").status_code == 200

    assert works(gis_key) and works(tablet_key) and signed_in(sign_in(SET, "canbo.hai")[0])
    user_deactivate(actor=superuser, user=province)
    assert not works(gis_key) and not works(tablet_key)
    client, page = sign_in(SET, "canbo.hai")
    assert not signed_in(client) and REFUSAL in page
    # The district manager's password set anew by nobody else: what they make now is theirs.
    User.objects.filter(pk=district.pk).update(password_set_by=None, password_known_also_by=[])
    district.refresh_from_db()
    assert works(token_issue(actor=district, user=worker, name="QGIS 2")[1])


def test_a_pairing_code_s_key_is_known_to_whoever_knew_its_creator_s_password_when_it_was_shown(
    people, make_user, superuser
):
    """The code is shown when it is made, and spent up to 15 minutes later: who may have
    seen it is who knew its creator's password then, whatever a reset in between says
    (pentest 8)."""
    from accounts.pairing import pairing_complete, pairing_start
    from accounts.scope import mark_password_set
    from accounts.services import user_deactivate

    province = make_user("quanly.tinh", people["tree"]["99"], Role.AREA_MANAGER, is_staff=True)
    district, worker = people["manager"], people["worker"]
    mark_password_set(district, province)
    code = pairing_start(actor=district, user=worker, name="Máy tính bảng")[1]
    mark_password_set(district, superuser)  # reset before the code is spent
    key = pairing_complete(code=code, device_name="").key
    user_deactivate(actor=superuser, user=province)
    assert Client().get(reverse("site-list"), HTTP_AUTHORIZATION=f"Token {key}").status_code == 401


def test_deleting_the_manager_who_set_a_password_does_not_give_it_back(people):
    """Deactivated, the manager's password stops; deleted, the account's link to them was
    emptied and the password became the holder's own again, so the manager, who knows it,
    signed in as the worker (pentest). A deleted person counts as one who may not."""
    set_by(people["manager"], people["worker"])
    User.objects.filter(pk=people["manager"].pk).delete()
    client, page = sign_in(SET)
    assert not signed_in(client) and REFUSAL in page


def test_deleting_the_manager_shown_a_gis_key_does_not_give_it_back(people):
    """The same for a device token's key shown to the manager who issued it."""
    _token, key = token_issue(actor=people["manager"], user=people["worker"], name="QGIS")
    gis = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert gis.get(reverse("site-list"), HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 200
    User.objects.filter(pk=people["manager"].pk).delete()
    assert gis.get(reverse("site-list"), HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 401
