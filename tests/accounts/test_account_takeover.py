"""Who may manage whom: one rule (`can_manage_user`) behind every account path. A manager
reaches a person only when every one of that person's memberships lies inside the
manager's managed subtrees and below the manager (an equal role only deeper down);
never a superuser, never a staff account of another scope. The review took accounts
over upward (a province account), sideways (a peer manager) and through a second
membership; each path is tried here for each of those people."""

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse

from accounts.models import DeviceToken, Membership, Role, User
from accounts.scope import OutOfScope, can_manage_user, manageable_users
from accounts.tokens import token_issue, token_revoke

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Mat-khau-moi-2026!"


@pytest.fixture
def people(demo_tree, make_user, superuser):
    """A district manager (991) and the people around them."""
    manager = make_user("nam", demo_tree["991"], Role.AREA_MANAGER, is_staff=True)
    province_viewer = make_user("tinh", demo_tree["99"], Role.VIEWER)
    # Upward: a worker of the district who is also a province viewer.
    two_hats = make_user("hai", demo_tree["99101"], Role.FIELD_WORKER)
    Membership.objects.create(user=two_hats, area=demo_tree["99"], role=Role.VIEWER)
    # Sideways: a worker of the district who also works in the next district.
    straddler = make_user("ke", demo_tree["99101"], Role.FIELD_WORKER)
    Membership.objects.create(user=straddler, area=demo_tree["99201"], role=Role.FIELD_WORKER)
    peer = make_user("ban", demo_tree["991"], Role.AREA_MANAGER, is_staff=True)
    commune_admin = make_user("qtxa", demo_tree["99101"], Role.ADMINISTRATOR, is_staff=True)
    boss = make_user("sep", demo_tree["99"], Role.AREA_MANAGER, is_staff=True)
    staff_no_area = make_user("nhanvien", is_staff=True)
    worker = make_user("lan", demo_tree["99101"], Role.FIELD_WORKER)
    commune_manager = make_user("xa", demo_tree["99102"], Role.AREA_MANAGER, is_staff=True)
    return {
        "manager": manager,
        "worker": worker,
        "commune_manager": commune_manager,
        "forbidden": {
            "province viewer": province_viewer,
            "two memberships, one upward": two_hats,
            "two memberships, one sideways": straddler,
            "peer manager": peer,
            "administrator below": commune_admin,
            "own manager": boss,
            "staff without areas": staff_no_area,
            "superuser": superuser,
            "the manager themself": manager,
        },
    }


FORBIDDEN = [
    "province viewer",
    "two memberships, one upward",
    "two memberships, one sideways",
    "peer manager",
    "administrator below",
    "own manager",
    "staff without areas",
    "superuser",
    "the manager themself",
]


def test_the_rule_itself(people):
    manager = people["manager"]
    assert can_manage_user(manager, people["worker"])
    assert can_manage_user(manager, people["commune_manager"])  # the same role, deeper down
    for label, person in people["forbidden"].items():
        assert not can_manage_user(manager, person), label
    listed = set(manageable_users(manager, User.objects.all()).values_list("username", flat=True))
    assert listed == {"lan", "xa"}


def test_superuser_manages_everyone_and_nobody_manages_a_superuser(people, superuser, demo_tree, make_user):
    assert can_manage_user(superuser, people["manager"])
    assert can_manage_user(superuser, people["forbidden"]["peer manager"])
    province_admin = make_user("qt", demo_tree["99"], Role.ADMINISTRATOR, is_staff=True)
    assert not can_manage_user(province_admin, superuser)
    other_root = make_user("root2", is_superuser=True, is_staff=True)
    Membership.objects.create(user=other_root, area=demo_tree["99101"], role=Role.FIELD_WORKER)
    assert not can_manage_user(province_admin, other_root)


def test_inactive_manager_manages_nobody(people):
    manager = people["manager"]
    manager.is_active = False
    manager.save()
    assert not can_manage_user(User.objects.get(pk=manager.pk), people["worker"])


def as_manager(people) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(people["manager"])
    return client


@pytest.mark.parametrize("label", FORBIDDEN)
def test_no_account_path_reaches_a_person_the_manager_may_not_manage(people, label):
    person = people["forbidden"][label]
    client = as_manager(people)
    listing = client.get(reverse("admin:accounts_user_changelist"))
    assert person.username not in {u.username for u in listing.context["cl"].result_list}
    assert client.get(reverse("admin:accounts_user_change", args=[person.pk])).status_code in (403, 404)
    password_url = reverse("admin:auth_user_password_change", args=[person.pk])
    assert client.get(password_url).status_code in (403, 404)
    client.post(password_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"})
    client.post(reverse("admin:accounts_user_changelist"), {"action": "deactivate", "_selected_action": [person.pk]})
    person.refresh_from_db()
    assert not person.check_password(NEW_PASSWORD) and person.is_active
    # Device tokens: not offered, not issued through the page nor the service.
    form_page = client.get(reverse("admin:accounts_devicetoken_add"))
    assert person.pk not in {pk for pk, _label in _user_choices(form_page)}
    client.post(reverse("admin:accounts_devicetoken_add"), {"user": person.pk, "name": "x"})
    assert not DeviceToken.objects.filter(user=person).exists()
    with pytest.raises(OutOfScope):
        token_issue(actor=people["manager"], user=person, name="x")


def _user_choices(response):
    field = response.context["adminform"].form.fields["user"]
    return [
        (int(value.value) if hasattr(value, "value") else int(value), text) for value, text in field.choices if value
    ]


@pytest.mark.parametrize("label", FORBIDDEN)
def test_tokens_of_people_out_of_reach_are_neither_listed_nor_revoked(people, superuser, label):
    person = people["forbidden"][label]
    token, _key = token_issue(actor=superuser, user=person, name="tablet")
    client = as_manager(people)
    listing = client.get(reverse("admin:accounts_devicetoken_changelist"))
    assert token not in listing.context["cl"].result_list
    client.post(reverse("admin:accounts_devicetoken_changelist"), {"action": "revoke", "_selected_action": [token.pk]})
    token.refresh_from_db()
    assert token.revoked_at is None
    with pytest.raises(OutOfScope):
        token_revoke(actor=people["manager"], token=token)


def test_a_manageable_person_is_reachable_on_every_path(people):
    worker = people["worker"]
    client = as_manager(people)
    assert client.get(reverse("admin:accounts_user_change", args=[worker.pk])).status_code == 200
    response = client.post(
        reverse("admin:auth_user_password_change", args=[worker.pk]),
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 302
    worker.refresh_from_db()
    assert worker.check_password(NEW_PASSWORD)
    form_page = client.get(reverse("admin:accounts_devicetoken_add"))
    offered = {pk for pk, _label in _user_choices(form_page)}
    assert offered == {worker.pk, people["commune_manager"].pk}


def membership_rows(rows, prefix="memberships", initial=()):
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(initial) + len(rows)),
        f"{prefix}-INITIAL_FORMS": str(len(initial)),
        f"{prefix}-MIN_NUM_FORMS": "0",
    }
    for i, membership in enumerate(initial):
        data[f"{prefix}-{i}-id"] = membership.pk
        data[f"{prefix}-{i}-user"] = membership.user_id
        data[f"{prefix}-{i}-area"] = membership.area_id
        data[f"{prefix}-{i}-role"] = membership.role
    for i, (area, role) in enumerate(rows, start=len(initial)):
        data[f"{prefix}-{i}-area"] = area.pk
        data[f"{prefix}-{i}-role"] = role
    return data


def _create(client, username, rows):
    data = {
        "username": username,
        "password1": "Mat-khau-dai-2026",
        "password2": "Mat-khau-dai-2026",
        "usable_password": "true",
        **membership_rows(rows),
    }
    return client.post(reverse("admin:accounts_user_add"), data)


@pytest.mark.parametrize(
    ("area", "role", "allowed"),
    [
        ("99102", Role.FIELD_WORKER, True),
        ("99102", Role.AREA_MANAGER, True),  # the same role, deeper down
        ("991", Role.AREA_MANAGER, False),  # a peer: the manager could no longer manage them
        ("991", Role.VIEWER, True),
        ("99102", Role.ADMINISTRATOR, False),  # above the grantor's role
        ("99201", Role.FIELD_WORKER, False),  # another district
        ("99", Role.VIEWER, False),  # above the grantor's area
    ],
)
def test_role_and_area_are_checked_together_when_granting(people, demo_tree, area, role, allowed):
    client = as_manager(people)
    response = _create(client, "moi", [(demo_tree[area], role)])
    assert User.objects.filter(username="moi").exists() == allowed
    assert response.status_code == (302 if allowed else 200)


def test_administrator_role_only_where_the_grantor_is_administrator(people, demo_tree, make_user):
    # A district manager who is administrator of one commune only.
    manager = people["manager"]
    Membership.objects.create(user=manager, area=demo_tree["99101"], role=Role.ADMINISTRATOR)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(manager)
    assert _create(client, "qt-khac", [(demo_tree["99102"], Role.ADMINISTRATOR)]).status_code == 200
    assert not User.objects.filter(username="qt-khac").exists()
    # Below the commune where the grantor is administrator: none deeper in the demo tree,
    # so a province administrator grants it in a commune instead.
    province_admin = make_user("qt", demo_tree["99"], Role.ADMINISTRATOR, is_staff=True)
    client.force_login(province_admin)
    assert _create(client, "qt-xa", [(demo_tree["99102"], Role.ADMINISTRATOR)]).status_code == 302
    assert _create(client, "qt-tinh", [(demo_tree["99"], Role.ADMINISTRATOR)]).status_code == 200


def test_adding_a_forbidden_role_to_a_managed_person_is_refused(people, demo_tree):
    worker = people["worker"]
    client = as_manager(people)
    existing = list(worker.memberships.all())
    data = {
        "username": worker.username,
        "is_active": "on",
        **membership_rows([(demo_tree["99"], Role.VIEWER)], initial=existing),
    }
    response = client.post(reverse("admin:accounts_user_change", args=[worker.pk]), data)
    assert response.status_code == 200
    assert not worker.memberships.filter(area=demo_tree["99"]).exists()
    data = {
        "username": worker.username,
        "is_active": "on",
        **membership_rows([(demo_tree["99102"], Role.VIEWER)], initial=existing),
    }
    assert client.post(reverse("admin:accounts_user_change", args=[worker.pk]), data).status_code == 302
    assert worker.memberships.filter(area=demo_tree["99102"]).exists()


# Names the lockout counts as one (accounts/lockout.py: NFKC, then case folded): a
# manager who renamed a person to a variant of the superuser's name could then lift the
# superuser's lockout by unlocking that person (pentest F1). And names that look alike in a
# list and the audit trail (accounts.models.LOOKALIKES): "ADMİN" beside "admin" (pentest I8),
# Cyrillic or Greek letters drawn as Latin ones, 0 for o, 1 for l, rn for m.
NAME_VARIANTS = [("root", "ROOT"), ("root", "Root"), ("root", "ｒｏｏｔ"), ("root", "ＲＯＯＴ"), ("strasse", "STRAßE")]
NAME_VARIANTS += [("admin", "ADMİN"), ("admin", "аdmin"), ("root", "rοοt"), ("root", "r00t"), ("admin", "adrnin")]
NAME_VARIANTS += [("lan.1", "lan.l"), ("ivan", "ıvan"), ("xem.tinh", "хеm.tinh")]
TAKEN_NAME = "Another account already has this name or one that looks the same"


@pytest.mark.parametrize(("taken", "variant"), NAME_VARIANTS)
def test_no_account_is_renamed_or_created_under_another_account_s_name(people, make_user, taken, variant):
    if not User.objects.filter(username=taken).exists():
        make_user(taken)
    worker = people["worker"]
    client = as_manager(people)
    data = {
        "username": variant,
        "is_active": "on",
        **membership_rows([], initial=list(worker.memberships.all())),
    }
    response = client.post(reverse("admin:accounts_user_change", args=[worker.pk]), data)
    # Django's own "A user with that username already exists." where the form's NFKC
    # makes the very name (ｒｏｏｔ), ours otherwise.
    said = response.context["adminform"].form.errors["username"]
    assert response.status_code == 200 and (variant == "ｒｏｏｔ" or TAKEN_NAME in said[0]), said
    worker.refresh_from_db()
    assert worker.username == "lan"
    # The add form says Django's message where it sees the case variant itself, ours otherwise (ß).
    response = _create(client, variant, [(people["worker"].memberships.get().area, Role.FIELD_WORKER)])
    assert response.status_code == 200 and response.context["adminform"].form.errors["username"]
    assert not User.objects.filter(username=variant).exists()


def test_a_person_may_be_renamed_to_a_variant_of_their_own_name(people):
    worker = people["worker"]
    data = {"username": "LAN", "is_active": "on", **membership_rows([], initial=list(worker.memberships.all()))}
    assert as_manager(people).post(reverse("admin:accounts_user_change", args=[worker.pk]), data).status_code == 302
    worker.refresh_from_db()
    assert worker.username == "LAN"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("Lan\x1b[31m", "contains the control character U+001B"),
        ("Lan\u202eneyugN", "contains U+202E, an invisible character that changes how text reads"),
        ("Lan\u200b", "contains U+200B, an invisible character that changes how text reads"),
    ],
)
@pytest.mark.parametrize("field", ["first_name", "last_name", "phone"])
def test_a_person_s_name_with_a_control_character_is_refused(people, field, value, message):
    """People's names head pages, PDFs and spreadsheets as sites' names do: the stored
    text rule (common/text.py) refuses control characters in them too, and the invisible
    ones that reorder a name or make two that look the same differ (pentest I8)."""
    worker = people["worker"]
    data = {
        "username": worker.username,
        "is_active": "on",
        "first_name": "Lan",
        "last_name": "Nguyễn",
        "phone": "0912 345 678",
        **membership_rows([], initial=list(worker.memberships.all())),
    }
    client = as_manager(people)
    response = client.post(reverse("admin:accounts_user_change", args=[worker.pk]), {**data, field: value})
    assert response.status_code == 200
    assert message in response.context["adminform"].form.errors[field][0]
    worker.refresh_from_db()
    assert getattr(worker, field) != value
    assert client.post(reverse("admin:accounts_user_change", args=[worker.pk]), data).status_code == 302


@pytest.mark.parametrize(("taken", "variant"), NAME_VARIANTS)
def test_the_database_refuses_a_second_account_under_one_name_whatever_writes_it(make_user, taken, variant):
    """The forms' check is not the only way in: a shell, a command or two requests at once
    write no second account under one lockout key either."""
    make_user(taken)
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user(username=variant, password="pw-Secret-123")
    other = make_user("khac")
    other.username = variant
    with pytest.raises(IntegrityError), transaction.atomic():
        other.save(update_fields=["username"])
    assert User.objects.filter(username=variant).count() == (1 if variant == taken else 0)


def test_a_manager_cannot_leave_a_person_without_a_role_in_their_areas(people):
    """The form asked for one membership but did not check it: a manager who posted none
    created an account that vanished from their list at once, nobody but a superuser
    could manage, and whose audit entries were filed under no area (pentest 5). Removing
    every role of a person is refused the same way (deactivate them instead)."""
    client = as_manager(people)
    assert _create(client, "mocoi", []).status_code == 200
    assert not User.objects.filter(username="mocoi").exists()
    worker = people["worker"]
    data = {"username": worker.username, "is_active": "on", **membership_rows([], initial=worker.memberships.all())}
    data["memberships-0-DELETE"] = "on"
    assert client.post(reverse("admin:accounts_user_change", args=[worker.pk]), data).status_code == 200
    assert worker.memberships.exists()
