"""The one area-scope rule: a role reaches its area's whole subtree and nothing else."""

import json

import pytest
from django.apps import apps
from django.contrib.sessions.models import Session

from accounts.models import Membership, Role, User
from accounts.scope import AREA_PATH_OF, EDIT, SURVEY, VERB_ROLES, VIEW, OutOfScope, people_who_may, scope_for
from areas.loader import load_boundaries
from areas.models import Area
from hazards.models import Inspection, Site

pytestmark = pytest.mark.django_db


@pytest.fixture
def sites(demo_tree, make_site, inspect):
    made = {code: make_site(demo_tree[code]) for code in ("99101", "99102", "99201", "99301")}
    for site in made.values():
        inspect(site, "2025-05-01T10:00")
    return made


def codes(queryset):
    return sorted(s.area.code for s in queryset.select_related("area"))


def test_commune_worker_sees_only_the_commune(sites, demo_tree, make_user):
    scope = scope_for(make_user("lan", demo_tree["99101"], Role.FIELD_WORKER))
    assert codes(scope.restrict(Site.objects.all())) == ["99101"]
    assert scope.restrict(Inspection.objects.all()).count() == 1
    assert list(scope.restrict(Area.objects.all()).values_list("code", flat=True)) == ["99101"]
    with pytest.raises(OutOfScope):
        scope.require_record(VIEW, sites["99201"])


def test_district_manager_sees_the_district_subtree(sites, demo_tree, make_user):
    scope = scope_for(make_user("nam", demo_tree["991"], Role.AREA_MANAGER))
    assert codes(scope.restrict(Site.objects.all(), EDIT)) == ["99101", "99102"]


def test_restrict_within_an_area_is_the_scope_and_the_subtree_in_one_condition(sites, demo_tree, make_user, superuser):
    district = scope_for(make_user("nam", demo_tree["991"], Role.AREA_MANAGER))
    commune = scope_for(make_user("lan", demo_tree["99101"], Role.FIELD_WORKER))
    everything = scope_for(superuser)
    within = {
        (name, path): codes(scope.restrict_within(Site.objects.all(), VIEW, path))
        for name, scope in (("district", district), ("commune", commune), ("everything", everything))
        for path in ("/", "/99/", "/99/991/", "/99/991/99101/", "/99/992/")
    }
    assert within == {
        ("district", "/"): ["99101", "99102"],
        ("district", "/99/"): ["99101", "99102"],
        ("district", "/99/991/"): ["99101", "99102"],
        ("district", "/99/991/99101/"): ["99101"],
        ("district", "/99/992/"): [],
        ("commune", "/"): ["99101"],
        ("commune", "/99/"): ["99101"],
        ("commune", "/99/991/"): ["99101"],
        ("commune", "/99/991/99101/"): ["99101"],
        ("commune", "/99/992/"): [],
        ("everything", "/"): ["99101", "99102", "99201", "99301"],
        ("everything", "/99/"): ["99101", "99102", "99201", "99301"],
        ("everything", "/99/991/"): ["99101", "99102"],
        ("everything", "/99/991/99101/"): ["99101"],
        ("everything", "/99/992/"): ["99201"],
    }
    # One path condition, not the scope's and the area's: PostgreSQL would multiply their
    # estimates and plan the province's order lists for a handful of sites.
    sql = str(district.restrict_within(Site.objects.all(), VIEW, "/99/991/").query)
    assert sql.count("LIKE") == 1


def test_roles_decide_the_verbs(sites, demo_tree, make_user):
    viewer = scope_for(make_user("xem", demo_tree["99"], Role.VIEWER))
    assert codes(viewer.restrict(Site.objects.all())) == ["99101", "99102", "99201", "99301"]
    assert not viewer.restrict(Site.objects.all(), SURVEY).exists()
    worker = scope_for(make_user("lan", demo_tree["99101"], Role.FIELD_WORKER))
    assert worker.allows(SURVEY, demo_tree["99101"]) and not worker.allows(EDIT, demo_tree["99101"])


def test_several_memberships_add_up(sites, demo_tree, make_user):
    user = make_user("hai", demo_tree["99101"], Role.FIELD_WORKER)
    Membership.objects.create(user=user, area=demo_tree["993"], role=Role.VIEWER)
    scope = scope_for(user)
    assert codes(scope.restrict(Site.objects.all())) == ["99101", "99301"]
    assert codes(scope.restrict(Site.objects.all(), SURVEY)) == ["99101"]


def test_no_membership_no_data(sites, make_user):
    user = make_user("none")
    assert not scope_for(user).restrict(Site.objects.all()).exists()
    user.is_active = False
    assert not scope_for(user).restrict(Site.objects.all()).exists()


def test_prefix_does_not_leak_to_sibling_codes(db, tmp_path, make_user):
    # Area "1" must not reach area "10": paths end with a separator.
    square = {"type": "Polygon", "coordinates": [[[105, 21], [105.5, 21], [105.5, 21.5], [105, 21.5], [105, 21]]]}
    features = [
        {"type": "Feature", "properties": {"ma_tinh": code, "ten_tinh": code}, "geometry": square}
        for code in ("1", "10")
    ]
    path = tmp_path / "p.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    load_boundaries([path])
    scope = scope_for(make_user("u", Area.objects.get(code="1"), Role.VIEWER))
    assert list(scope.restrict(Area.objects.all()).values_list("code", flat=True)) == ["1"]


def test_each_app_declares_its_scoped_models_and_an_undeclared_one_is_refused(sites, demo_tree, make_user):
    """The scope check names no app above accounts: every app declares how its models
    reach their area (scope_models in its AppConfig.ready()), and each declared lookup
    reaches an area's path."""
    assert {label.split(".")[0] for label in AREA_PATH_OF} == {"areas", "accounts", "hazards", "mapping", "reports"}
    scope = scope_for(make_user("lan", demo_tree["99101"], Role.FIELD_WORKER))
    for label in AREA_PATH_OF:
        list(scope.restrict(apps.get_model(label).objects.all())[:1])
    # A model no app declared is never read unfiltered.
    with pytest.raises(LookupError, match=r"sessions\.session has no area scope"):
        scope.restrict(Session.objects.all())


def test_people_who_may_are_those_whose_scope_allows_it(demo_tree, make_user, superuser):
    """people_who_may asks the rule the other way round (who, rather than whether): for
    every verb and area it names exactly the people scope_for(person).allows it for."""
    make_user("lan", demo_tree["99101"], Role.FIELD_WORKER)
    make_user("nam", demo_tree["991"], Role.AREA_MANAGER)
    make_user("xem", demo_tree["99"], Role.VIEWER)
    make_user("quantri", demo_tree["992"], Role.ADMINISTRATOR)
    make_user("nghi", demo_tree["99"], Role.ADMINISTRATOR, is_active=False)
    both = make_user("hai", demo_tree["99101"], Role.VIEWER)
    Membership.objects.create(user=both, area=demo_tree["99102"], role=Role.FIELD_WORKER)
    people = list(User.objects.all())
    for verb in VERB_ROLES:
        for area in Area.objects.all():
            expected = {person for person in people if scope_for(person).allows(verb, area)}
            assert set(people_who_may(verb, area)) == expected, (verb, area.code)
