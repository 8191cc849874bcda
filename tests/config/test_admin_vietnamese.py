"""The administration in Vietnamese shows no English of the registry's own: every label,
help text, choice, filter and action of the project's models is translated, and no page
shows a database name or a stored code where a person's word belongs (the audit trail
showed "update hazards_site · barrier: none → complete")."""

import datetime as dt
import gettext
import json
import re
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

import django
import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.utils import get_fields_from_path, label_for_field
from django.db.models import GeneratedField
from django.forms.utils import pretty_name
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils.translation import override
from django.utils.translation.trans_real import translation

from accounts import audit_text
from accounts.derived import AUDITED
from accounts.models import AuditEntry, Role
from accounts.tokens import token_issue
from common.numbers import format_number
from hazards import lifecycle, orders
from reports import services as report_services

pytestmark = [pytest.mark.django_db, pytest.mark.frozen("2026-03-15T10:00")]

PROJECT_APPS = {"accounts", "areas", "hazards", "reports", "mapping"}


def project_admins() -> list[tuple[type, admin.ModelAdmin]]:
    return [(m, a) for m, a in admin.site._registry.items() if m._meta.app_label in PROJECT_APPS]


@cache
def djangos_own() -> set[str]:
    """Django's own messages, from its English catalogues (its Vietnamese one lags behind:
    those gaps are Django's to fill, not the project's)."""
    found = set()
    for po in Path(django.__file__).parent.glob("**/locale/en/LC_MESSAGES/django.po"):
        for quoted in re.findall(r'^msgid ((?:".*"\n)+)', po.read_text(), re.M):
            found.add("".join(json.loads(line) for line in quoted.splitlines()))
    return found


def untranslated(produce) -> list[str]:
    """The strings `produce` gives (a name for each) that read the same in Vietnamese as in
    English, unless the catalogue says so (a translator kept "GPS") or Django owns them."""
    with override("en"):
        english = {key: str(text) for key, text in produce().items()}
    with override("vi"):
        vietnamese = {key: str(text) for key, text in produce().items()}
    catalogue = translation("vi")._catalog
    return [
        f"{key}: {text}"
        for key, text in english.items()
        if re.search(r"[A-Za-z]{2}", text)
        and vietnamese.get(key) == text
        and text not in catalogue
        and text not in djangos_own()
    ]


def shown_strings(model, model_admin, request) -> dict[str, object]:
    """What the admin of `model` shows that its code names: a name for each string."""
    opts = model._meta
    found = {"verbose_name": opts.verbose_name, "verbose_name_plural": opts.verbose_name_plural}
    for name in model_admin.get_list_display(request):
        if name != "__str__":
            found[f"column {name}"] = label_for_field(name, model, model_admin)
    for field in opts.concrete_fields:
        if field.help_text:
            found[f"help {field.name}"] = field.help_text
        for value, label in field.flatchoices if field.choices else []:
            found[f"choice {field.name}={value}"] = label
    # The add page, and the change page of a record (each may show other fields).
    for obj in (None, model_admin.get_queryset(request).first()):
        page = "change" if obj else "add"
        form = model_admin.get_form(request, obj)()
        for name in model_admin.get_fields(request, obj):
            if name in form.fields:  # as the form shows it (its label, else the field's name)
                found[f"{page} {name}"] = form.fields[name].label or pretty_name(name)
            else:
                found[f"{page} {name}"] = label_for_field(name, model, model_admin, form=form)
        for name, form_field in form.fields.items():
            if form_field.help_text:
                found[f"{page} help {name}"] = form_field.help_text
    for item in model_admin.get_list_filter(request):
        if isinstance(item, str | tuple):  # a field's filter: headed by the (last) field's name
            name = item if isinstance(item, str) else item[0]
            found[f"filter {name}"] = get_fields_from_path(model, name)[-1].verbose_name
            continue
        found[f"filter {item.__name__}"] = item.title
        for value, label in item(request, {}, model, model_admin).lookup_choices:
            found[f"filter {item.__name__}={value}"] = label
    for name, (_function, _name, description) in model_admin.get_actions(request).items():
        found[f"action {name}"] = description
    for inline in model_admin.get_inline_instances(request):
        found[f"inline {inline.model.__name__}"] = inline.model._meta.verbose_name_plural
        for name in inline.get_fields(request):
            found[f"inline {inline.model.__name__} {name}"] = label_for_field(name, inline.model, inline)
    return found


def test_every_label_choice_filter_and_action_of_the_project_admin_is_translated(superuser):
    request = RequestFactory().get("/admin/")
    request.user = superuser
    missing = []
    for model, model_admin in project_admins():
        missing += untranslated(lambda model=model, model_admin=model_admin: shown_strings(model, model_admin, request))
    assert missing == [], "\n".join(missing)


def shown_field(field):
    """A generated column is shown as the field it outputs."""
    return field.output_field if isinstance(field, GeneratedField) else field


def test_the_audit_trail_names_every_column_and_value_it_records():
    """The site's history and the audit page name each recorded column by its field and
    each stored code by its choice (accounts/audit_text.py)."""
    models = {m._meta.db_table: m for m in apps.get_models()}

    def names():
        found = {}
        for table in AUDITED:
            found[table] = audit_text.table_label(table)
            for field in models[table]._meta.concrete_fields:
                if not field.primary_key:
                    found[f"{table}.{field.column}"] = audit_text.column_label(table, field.column)
                for value, _label in shown_field(field).flatchoices if shown_field(field).choices else []:
                    found[f"{table}.{field.column}={value}"] = audit_text.value_text(table, field.column, value)
        for action in audit_text.ACTIONS:
            found[action] = audit_text.action_label(action)
        return found

    missing = untranslated(names)
    assert missing == [], "\n".join(missing)


class Texts(HTMLParser):
    """A page's words as a person meets them: text outside scripts, styles and the map's
    hidden geometry fields, and the titles and labels assistive technology reads."""

    HIDDEN = {"script", "style", "textarea", "template"}

    def __init__(self):
        super().__init__()
        self.texts, self.hidden = [], 0

    def handle_starttag(self, tag, attrs):
        self.hidden += tag in self.HIDDEN
        self.texts += [value for key, value in attrs if key in ("title", "placeholder", "aria-label") and value]

    def handle_endtag(self, tag):
        self.hidden -= tag in self.HIDDEN

    def handle_data(self, data):
        if not self.hidden and data.strip():
            self.texts.append(data.strip())


def page_texts(html: str) -> list[str]:
    parser = Texts()
    parser.feed(html)
    return parser.texts


def english_of_the_project() -> set[str]:
    """The project's msgids, and the names its database and its codes use."""
    with open(settings.BASE_DIR / "locale" / "vi" / "LC_MESSAGES" / "django.mo", "rb") as compiled:
        # Keys are a msgid, "context\x04msgid", or (msgid, n) for plurals.
        keys = gettext.GNUTranslations(compiled)._catalog
        words = {(key[0] if isinstance(key, tuple) else key).split("\x04")[-1] for key in keys if key}
    for model in apps.get_models():
        if model._meta.app_label not in PROJECT_APPS:
            continue
        words.add(model._meta.db_table)
        for field in model._meta.concrete_fields:
            words.add(field.column)
            words.update(str(value) for value, _label in (field.flatchoices if field.choices else []))
    words.update(["insert", "update", "delete"])
    return {w for w in words if re.search(r"[a-z]{3}", w)}


@pytest.fixture
def history(demo_tree, make_site, inspect, make_user, superuser):
    """A little of everything the project's admin pages show: a site with a history, a
    merged duplicate, a closure proposed, an order, a target and a device key."""
    manager = make_user("quanly", demo_tree["991"], Role.AREA_MANAGER, is_staff=True)
    worker = make_user("canbo", demo_tree["99101"], Role.FIELD_WORKER)
    site = make_site(demo_tree["99101"], name="Ao làng", active_from=dt.date(2025, 1, 1))
    inspect(site, "2025-03-01T09:00", "none", "none")
    inspect(site, "2026-03-01T09:00", "in_place", "partial")
    copy = make_site(demo_tree["99101"], name="Ao làng (bản trùng)", active_from=dt.date(2025, 1, 1))
    inspect(copy, "2025-04-01T09:00", "damaged", "none")
    lifecycle.site_merge(actor=superuser, duplicate=copy, kept=site)
    proposed = make_site(demo_tree["99102"], name="Hố cát", kind="pit", active_from=dt.date(2025, 1, 1))
    lifecycle.closure_propose(
        actor=superuser, site=proposed, reason="filled_in", observed_at=dt.datetime(2026, 3, 10, 9, tzinfo=dt.UTC)
    )
    orders.order_open(
        actor=superuser,
        site=site,
        party_kind="household",
        party_name="Hộ ông Ba",
        requirements=["barrier"],
        deadline=dt.date(2026, 4, 30),
        follow_up=manager,
    )
    report_services.target_set(
        actor=superuser, area=demo_tree["991"], indicator="protected", value=80, deadline=dt.date(2026, 12, 31)
    )
    token_issue(actor=superuser, user=worker, name="Máy tính bảng 1")
    return site


def test_no_admin_page_shows_the_projects_english_in_vietnamese(superuser, history):
    client = Client(HTTP_ACCEPT_LANGUAGE="vi")
    client.force_login(superuser)
    english = english_of_the_project()
    found = {}
    for model, _model_admin in project_admins():
        info = model._meta.app_label, model._meta.model_name
        pages = [reverse("admin:{}_{}_changelist".format(*info)), reverse("admin:{}_{}_add".format(*info))]
        manager = getattr(model, "all_objects", model._default_manager)
        pages += [reverse("admin:{}_{}_change".format(*info), args=[obj.pk]) for obj in manager.all()[:3]]
        for page in pages:
            response = client.get(page)
            assert response.status_code in (200, 403), page  # 403: a record nobody adds by hand
            for text in page_texts(response.text):
                # "Thay đổi · Lần kiểm tra", "Rào chắn: Không có → Một phần": each part on its own.
                for part in re.split(r"\s*[·:→,]\s*", text):
                    if part in english:
                        found.setdefault(part, page)
    assert AuditEntry.objects.filter(table="hazards_site", action="update").exists()  # the history has changes
    assert found == {}


# What a database keeps and a person should never read: a geometry as EWKT or WKT
# ("SRID=4326;MULTIPOLYGON (((106.06…"), an area's path ("/99/991/"), a day as ISO writes it,
# a record's key (a UUID); and a day in Django's own Vietnamese long form ("14:30 Ngày 05
# tháng 12 năm 2026", "Tháng Mười Hai 2026") where the registry writes 05/12/2026.
STORED_FORMS = re.compile(
    r"SRID=\d+;|\b(?:MULTI)?(?:POINT|POLYGON|LINESTRING)\s*Z?\s*\(|^/[\d/]+/$|\b\d{4}-\d{2}-\d{2}\b"
    r"|\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"
    r"|\b[Tt]háng (?:\d+|Một|Hai|Ba|Tư|Năm|Sáu|Bảy|Tám|Chín|Mười)\b"
)


def test_no_admin_page_shows_a_geometry_a_path_a_key_or_a_date_as_stored(superuser, history, demo_tree):
    """The area's admin page showed its boundary as EWKT and its path ("/99/"), an
    inspection was titled "HZ-000197 · 2026-12-05", to a province's manager, and the audit
    trail showed each site by its UUID and every moment in Django's long form (walkthrough).
    Checked for a manager, who only views areas, and for the country's administrator."""
    from accounts.models import User

    found = {}
    for user in (User.objects.get(username="quanly"), superuser):
        client = Client(HTTP_ACCEPT_LANGUAGE="vi")
        client.force_login(user)
        for model, model_admin in project_admins():
            info = model._meta.app_label, model._meta.model_name
            pages = [reverse("admin:{}_{}_changelist".format(*info))]
            if model_admin.date_hierarchy:  # the drill-down's months and days
                field = model_admin.date_hierarchy
                pages += [f"{pages[0]}?{field}__year=2026", f"{pages[0]}?{field}__year=2026&{field}__month=3"]
            manager = getattr(model, "all_objects", model._default_manager)
            pages += [reverse("admin:{}_{}_change".format(*info), args=[obj.pk]) for obj in manager.all()[:3]]
            for page in pages:
                response = client.get(page)
                if response.status_code != 200:
                    continue  # a page the person may not open
                for text in page_texts(response.text):
                    if STORED_FORMS.search(text):
                        found.setdefault(f"{user.username} {page}", []).append(text[:80])
    assert found == {}


def test_the_admin_groups_its_counts_as_the_registry_does(superuser):
    """A change list wrote "1234 người dùng" under its rows, its search "1234 kết quả" and
    its actions "Hãy chọn tất cả 1234 người dùng", where every other count of the registry
    is grouped (1.234)."""
    from accounts.models import User, username_key

    User.objects.bulk_create(
        User(username=f"canbo{n:04d}", name_key=username_key(f"canbo{n:04d}")) for n in range(1234)
    )
    total, found = User.objects.count(), User.objects.filter(username__startswith="canbo").count()
    client = Client(HTTP_ACCEPT_LANGUAGE="vi")
    client.force_login(superuser)
    listed = client.get(reverse("admin:accounts_user_changelist")).text
    searched = client.get(reverse("admin:accounts_user_changelist") + "?q=canbo").text
    with override("vi"):
        shown, shown_found = format_number(total), format_number(found)
    (paginator,) = re.findall(r'<p class="paginator">(.*?)</p>', listed, re.S)
    assert "." in shown and f"{shown} người dùng" in paginator, paginator
    assert f"Hãy chọn tất cả {shown} người dùng" in listed and f"Tất cả {shown} đã được chọn" in listed
    assert f"{shown_found} kết quả" in searched and f"tổng số {shown}" in searched


# English that Django writes where no catalogue can give another language: a warning its
# code adds to a translated help text (auth.forms.AdminPasswordChangeForm), and a word left
# in its Vietnamese translation of "Models in the %(name)s application".
UNCATALOGUED = ["If disabled, the current password for this user will be lost.", "models"]
# A Django message (a msgid of its catalogues) as it may stand in a page: its placeholders
# ("%(model)s", "%s", "{}") stand for any words.
PLACEHOLDER = re.compile(r"%\(\w+\)[sdr]|%[sdr]|\{\w*\}")


@cache
def djangos_english_left() -> re.Pattern:
    """What Django's own code writes that its Vietnamese catalogue and the project's
    (LOCALE_PATHS, which comes first) leave in English: any of its messages, as a pattern."""
    vietnamese = translation("vi")
    left = set()
    djangos = [Path(django.__file__).parent / "conf"]
    djangos += [Path(app.path) for app in apps.get_app_configs() if app.name.startswith("django.")]
    for po in (path / "locale" / "en" / "LC_MESSAGES" / "django.po" for path in djangos):
        if not po.exists():
            continue
        for block in po.read_text().split("\n\n"):
            context = re.search(r'^msgctxt ((?:".*"\n?)+)', block, re.M)
            message = re.search(r'^msgid ((?:".*"\n?)+)', block, re.M)
            if not message:
                continue
            msgid = "".join(json.loads(line) for line in message.group(1).splitlines())
            if context:
                context = "".join(json.loads(line) for line in context.group(1).splitlines())
                said = vietnamese.pgettext(context, msgid)
            else:
                said = vietnamese.gettext(msgid)
            if said != msgid:
                continue
            # A message with markup reaches a page's text in pieces: those of two words or
            # more. An acronym ("GIS") is no English to translate.
            pieces = re.split(r"\s*<[^>]+>\s*", msgid)
            least = 1 if len(pieces) == 1 else 2
            left.update(
                p for p in pieces if len(re.findall(r"[A-Za-z]*[a-z][A-Za-z]*", PLACEHOLDER.sub("", p))) >= least
            )
    patterns = [".+?".join(re.escape(part) for part in PLACEHOLDER.split(msgid)) for msgid in left | set(UNCATALOGUED)]
    return re.compile(r"(?<!\w)(?:" + "|".join(sorted(patterns, key=len, reverse=True)) + r")(?!\w)")


def test_no_admin_page_shows_djangos_own_english_in_vietnamese(client, history, demo_tree, make_user):
    """A district's administrator read "Show counts" and "Hide counts" above the filters,
    and other words Django's admin writes and its Vietnamese catalogue lacks, on the pages
    they open: the lists with their filters, the forms (one refused), each record's history
    and its deletion, a person's password, the audit trail, the index and the sign-in."""
    from accounts.models import User

    found = {}

    def read(response, page):
        assert response.status_code in (200, 400, 403, 404), page  # 403, 404: not theirs to open
        for text in page_texts(response.text):
            for english in djangos_english_left().finditer(text):
                found.setdefault(english.group(0), page)

    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "vi"
    read(client.get(reverse("admin:login")), reverse("admin:login"))
    person = make_user("quantri", demo_tree["991"], Role.ADMINISTRATOR, is_staff=True)
    client.force_login(person)
    pages = [reverse("admin:index")]
    pages += [reverse("admin:app_list", args=[app]) for app in {m._meta.app_label for m in admin.site._registry}]
    for model in admin.site._registry:
        info = model._meta.app_label, model._meta.model_name
        changelist = reverse("admin:{}_{}_changelist".format(*info))
        pages += [changelist, f"{changelist}?_facets=True", reverse("admin:{}_{}_add".format(*info))]
        manager = getattr(model, "all_objects", model._default_manager)
        for obj in manager.all()[:3]:
            pages += [
                reverse(f"admin:{info[0]}_{info[1]}_{view}", args=[obj.pk]) for view in ("change", "history", "delete")
            ]
    pages += [reverse("admin:auth_user_password_change", args=[User.objects.get(username="canbo").pk])]
    for page in pages:
        read(client.get(page), page)
    refused = reverse("admin:hazards_site_add")  # a form sent back with its errors
    read(client.post(refused, {"name": ""}), f"POST {refused}")
    assert found == {}
