"""What `make prod` keeps between starts (scripts/prod.py's env file): the settings the
stack runs with, not a one-off wish of a single start such as a longer wait."""

import importlib.util

from django.conf import settings


def load_prod():
    spec = importlib.util.spec_from_file_location("prod_script", settings.BASE_DIR / "scripts" / "prod.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_longer_wait_asked_for_one_start_is_not_kept_for_the_next(tmp_path, monkeypatch):
    prod = load_prod()
    monkeypatch.setenv("PROD_DIR", str(tmp_path))
    monkeypatch.setenv("PROD_READY_SECONDS", "1800")
    monkeypatch.setenv("GUNICORN_WORKERS", "3")
    prod.Stack().write_env()
    assert prod.ready_seconds() == 1800

    monkeypatch.delenv("PROD_READY_SECONDS")
    monkeypatch.delenv("GUNICORN_WORKERS")
    later = prod.Stack()
    assert later.get("GUNICORN_WORKERS") == "3"  # a setting of the stack stays
    assert prod.ready_seconds() == prod.READY_SECONDS
    assert "PROD_READY_SECONDS" not in (tmp_path / "env").read_text()


def test_links_in_mails_and_files_point_to_the_stack_itself(tmp_path, monkeypatch):
    """Reminders, digests and the report's XLSX link to SITE_URL: on the stack, its own
    address, not the development server's default."""
    prod = load_prod()
    monkeypatch.setenv("PROD_DIR", str(tmp_path))
    monkeypatch.setenv("PROD_SERVER_NAMES", "registry.songxanh.example.vn,localhost")
    monkeypatch.setenv("PROD_HTTPS_PORT", "8443")
    monkeypatch.setenv("DATABASE_URL", "postgis://u:p@127.0.0.1:5432/hazards")
    monkeypatch.setenv("PROD_USER", "root")
    stack = prod.Stack()
    assert stack.configure()["SITE_URL"] == "https://registry.songxanh.example.vn:8443"
    monkeypatch.setenv("SITE_URL", "https://dangky.example.vn")
    assert prod.Stack().configure()["SITE_URL"] == "https://dangky.example.vn"
