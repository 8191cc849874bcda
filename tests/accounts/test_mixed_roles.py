"""A person with two roles, administrator of one commune and viewer of the whole
province, reads in the admin what each role gives where it gives it: the rows a page
shows under a right are those the person holds that right over, not those of the wider
right that lets them see the province (review 23, finding 1)."""

import pytest
from django.urls import reverse

from accounts.models import AuditEntry, Membership, Role
from accounts.services import user_deactivate
from hazards import services

pytestmark = pytest.mark.django_db

OWN, OTHER = "/99/991/99101/", "/99/992/99201/"


@pytest.fixture
def mixed(demo_tree, make_user):
    """Administrator of commune 99101, viewer of province 99 (so of commune 99201 too)."""
    person = make_user("hai_vai", demo_tree["99101"], Role.ADMINISTRATOR, is_staff=True)
    Membership.objects.create(user=person, area=demo_tree["99"], role=Role.VIEWER)
    return person


@pytest.fixture
def entries(demo_tree, make_user, make_site, superuser):
    """Audit entries in both communes: a site's, and an account change (a deactivation)."""
    make_site(demo_tree["99101"], name="Ao xã mình")
    make_site(demo_tree["99201"], name="Ao xã khác")
    worker = make_user("tho_99201", demo_tree["99201"], Role.FIELD_WORKER)
    user_deactivate(actor=superuser, user=worker)
    other = AuditEntry.objects.filter(area_path=OTHER)
    assert other.filter(table="hazards_site").exists() and other.filter(table="accounts_user").exists()
    return other


def test_the_audit_list_holds_only_the_commune_administered(client, mixed, entries):
    client.force_login(mixed)
    page = client.get(reverse("admin:accounts_auditentry_changelist"))
    assert page.status_code == 200
    shown = {entry.area_path for entry in page.context["cl"].result_list}
    assert shown and all(path.startswith(OWN) for path in shown)


def test_an_audit_entry_of_the_commune_only_viewed_answers_404(client, mixed, entries):
    client.force_login(mixed)
    for entry in entries:
        assert client.get(reverse("admin:accounts_auditentry_change", args=[entry.pk])).status_code == 404


def test_deleted_sites_show_only_where_the_person_administers(client, mixed, demo_tree, make_site, superuser):
    own = make_site(demo_tree["99101"], name="Ao xóa xã mình")
    other = make_site(demo_tree["99201"], name="Ao xóa xã khác")
    live = make_site(demo_tree["99201"], name="Ao còn xã khác")
    for site in (own, other):
        services.site_delete(actor=superuser, site=site)
    client.force_login(mixed)
    listing = reverse("admin:hazards_site_changelist")
    deleted = client.get(listing + "?deleted=yes")
    assert deleted.status_code == 200
    assert [site.pk for site in deleted.context["cl"].result_list] == [own.pk]
    # The live sites of the province are theirs to view, as before.
    assert live.pk in {site.pk for site in client.get(listing).context["cl"].result_list}
    assert client.get(reverse("admin:hazards_site_change", args=[other.pk])).status_code == 404
    assert client.get(reverse("admin:hazards_site_change", args=[own.pk])).status_code == 200


def _roles_offered(client) -> set[str]:
    page = client.get(reverse("admin:accounts_user_add"))
    assert page.status_code == 200
    (memberships,) = page.context["inline_admin_formsets"]
    return {value for value, _label in memberships.formset.form.base_fields["role"].choices if value}


def test_the_role_field_offers_the_roles_the_person_may_give(client, mixed, demo_tree, make_user):
    # An administrator of a commune may give every role there; viewing the province adds none.
    client.force_login(mixed)
    assert _roles_offered(client) == set(Role.values)
    # An area manager gives the roles below theirs, and their own below their area; not
    # the administrator role.
    client.force_login(make_user("quan_ly", demo_tree["991"], Role.AREA_MANAGER, is_staff=True))
    assert _roles_offered(client) == {Role.VIEWER, Role.FIELD_WORKER, Role.AREA_MANAGER}
