"""Language, time zone and production settings as users and operators rely on them."""

import os
import re
import subprocess
import sys

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation

pytestmark = pytest.mark.django_db


def test_vietnamese_by_default_and_english_on_request(superuser):
    client = Client()  # a browser that states no language preference
    client.force_login(superuser)
    page = client.get(reverse("admin:index"))
    assert "Sổ quản lý điểm nguy cơ đuối nước" in page.text
    client.post(reverse("set_language"), {"language": "en", "next": "/admin/"})
    assert "Drowning hazard registry" in client.get(reverse("admin:index")).text


def test_time_zone_is_vietnam_and_stored_in_utc():
    assert settings.TIME_ZONE == "Asia/Ho_Chi_Minh" and settings.USE_TZ


def test_every_vietnamese_message_is_translated():
    po = settings.BASE_DIR / "locale" / "vi" / "LC_MESSAGES" / "django.po"
    stats = subprocess.run(
        ["msgfmt", "--statistics", "-o", "/dev/null", po], capture_output=True, text=True, check=True
    )
    assert "untranslated" not in stats.stderr and "fuzzy" not in stats.stderr, stats.stderr


# What makemessages reads as translatable (xgettext's keywords as Django passes them).
MARKERS = {"_", "gettext", "gettext_lazy", "gettext_noop", "ngettext", "ngettext_lazy", "pgettext", "pgettext_lazy"}
MARKERS |= {"npgettext", "npgettext_lazy"}


def test_strings_are_marked_under_names_makemessages_reads():
    """A translation function imported under another name (`gettext_lazy as _lazy`) marks
    strings that never reach the catalogue: the report's list headings stayed English in
    the Vietnamese interface."""
    pattern = re.compile(r"^from django\.utils\.translation import .*\b(\w+) as (\w+)", re.M)
    renamed = []
    for path in settings.BASE_DIR.rglob("*.py"):
        if ".venv" in path.parts:
            continue
        for function, alias in pattern.findall(path.read_text()):
            if "gettext" in function and alias not in MARKERS:
                renamed.append(f"{path.relative_to(settings.BASE_DIR)}: {function} as {alias}")
    assert renamed == []


def manage(*args, **env):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        # The browser tests' async-unsafe switch must not leak into a production check.
        env={**{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_check_deploy_is_clean_with_production_settings():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY="x" * 20 + "A-very-long-random-production-secret-key-0123456789",
        DJANGO_ALLOWED_HOSTS="registry.example.org",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    """An operator running a command (a restore, a migration) without the stack's
    environment reads one line saying what to set, not a traceback."""
    result = manage("check", DJANGO_SETTINGS_MODULE="config.settings.production", DJANGO_SECRET_KEY="")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_migrations_are_committed():
    result = manage("makemigrations", "--check", "--dry-run", DJANGO_SETTINGS_MODULE="config.settings.test")
    assert result.returncode == 0, result.stdout


def test_no_migration_imports_another():
    """What migrations share (an app's SQL file) is applied through common/sql_files.py:
    a migration importing another ties its meaning to a file that may change or go."""
    found = [
        f"{path.relative_to(settings.BASE_DIR)}: {line.strip()}"
        for path in sorted(settings.BASE_DIR.glob("*/migrations/*.py"))
        for line in path.read_text().splitlines()
        if re.search(r"import_module|\bmigrations\.\d{4}|from \.\d{4}|__import__", line)
    ]
    assert not found, found


def test_every_field_error_of_the_rest_framework_reads_in_vietnamese():
    """DRF's Vietnamese catalogue lacks most of them (config/library_messages.py)."""
    from rest_framework import fields, relations, serializers

    messages = {
        message
        for module in (fields, relations, serializers)
        for cls in vars(module).values()
        if isinstance(cls, type)
        for message in getattr(cls, "default_error_messages", {}).values()
    }
    with translation.override("en"):
        english = {message: str(message) for message in messages}
    with translation.override("vi"):
        untranslated = sorted(text for message, text in english.items() if str(message) == text)
    assert untranslated == []


def test_every_refusal_of_the_rest_framework_reads_in_vietnamese():
    """A tablet or script signed out read "Authentication credentials were not provided."
    in a Vietnamese request (walkthrough): DRF's Vietnamese catalogue lacks its refusals
    too (config/library_messages.py)."""
    from rest_framework import exceptions

    messages = {
        cls.default_detail
        for cls in vars(exceptions).values()
        if isinstance(cls, type) and issubclass(cls, exceptions.APIException) and cls.default_detail
    }
    with translation.override("en"):
        english = {message: str(message) for message in messages}
    with translation.override("vi"):
        untranslated = sorted(text for message, text in english.items() if str(message) == text)
    assert untranslated == []


def test_the_admin_s_form_error_reads_in_vietnamese():
    """Django's Vietnamese catalogue lacks the plural form the admin asks for."""
    with translation.override("vi"):
        for count in (1, 2):
            said = translation.ngettext("Please correct the error below.", "Please correct the errors below.", count)
            assert "Please" not in said, said


def test_the_admin_map_s_drawing_tools_read_in_vietnamese():
    """The buttons and hints of the admin's map widget ("Draw a marker", "Delete layers")
    were in English in the Vietnamese interface (walkthrough): django-leaflet has no
    Vietnamese catalogue (config/library_messages.py)."""
    from leaflet.templatetags.leaflet_tags import leaflet_draw_i18n

    def words() -> dict[str, str]:
        return {key: str(text) for key, text in leaflet_draw_i18n({"with_forms": True}).items() if key != "with_forms"}

    with translation.override("en"):
        english = words()
    with translation.override("vi"):
        vietnamese = words()
    untranslated = sorted(text for key, text in english.items() if vietnamese[key] == text)
    assert untranslated == []
