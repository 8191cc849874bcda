"""What `make prod` keeps between starts (scripts/prod.py's env file): the settings the
stack runs with, not a one-off wish of a single start such as a longer wait."""

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
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


SCRIPT = settings.BASE_DIR / "scripts" / "prod.py"


def fake_tools(tmp_path, script: str) -> tuple[dict, Path]:
    """An environment whose system tools (PostgreSQL's, runuser, useradd, nginx, openssl)
    are stand-ins that write each call to a file and then run `script`: nothing on the
    machine's own PostgreSQL is touched, whatever the code under test asks for."""
    folder, calls = tmp_path / "bin", tmp_path / "calls"
    folder.mkdir()
    for name in ("runuser", "psql", "pg_ctlcluster", "pg_conftool", "useradd", "nginx", "openssl"):
        tool = folder / name
        tool.write_text(f'#!/bin/sh\necho "{name} $*" >> {calls}\n{script}\n')
        tool.chmod(0o755)
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PROD_", "TLS_", "DATABASE_"))}
    return {**keep, "PATH": f"{folder}:/usr/bin:/bin"}, calls


@pytest.mark.parametrize(
    "action", [["manage", "restore", "B"], ["manage", "backup", "--keep", "30"], ["stop"], ["status"], ["systemd-unit"]]
)
def test_an_action_on_a_folder_without_a_stack_refuses_and_touches_nothing(tmp_path, action):
    """A wrong PROD_DIR (a typo, a cron line that forgot it) must not make a new stack: that
    changed the database role's password under the running stack."""
    env, calls = fake_tools(tmp_path, "exit 1")
    folder = tmp_path / "no-stack"
    result = subprocess.run(
        [sys.executable, str(SCRIPT), *action], env={**env, "PROD_DIR": str(folder)}, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert str(folder) in result.stderr and "make prod" in result.stderr
    assert not folder.exists()
    assert not calls.exists()  # no cluster started, no role touched


def test_a_first_start_never_changes_the_password_of_an_existing_role(tmp_path):
    """A new stack folder on a machine whose role `hazards` exists (another stack's, or this
    one's after its env file was lost) refuses, naming the role, instead of giving the role
    a new password the other stack does not know."""
    existing = 'case "$*" in *pg_roles*) echo 1;; *"ALTER ROLE"*) exit 1;; *pg_conftool*|*show*) echo 5432;; esac'
    env, calls = fake_tools(tmp_path, existing)
    if os.geteuid() == 0:
        env["PROD_USER"] = "root"
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "start"], env={**env, "PROD_DIR": str(tmp_path / "new")},
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode != 0
    assert "hazards" in result.stderr and "DATABASE_URL" in result.stderr
    assert "ALTER ROLE" not in calls.read_text()
    assert "CREATE" not in calls.read_text()


def test_replica_settings_given_to_one_start_stay_for_manage_and_later_starts(tmp_path, monkeypatch):
    """`DATABASE_REPLICA_URL=... make prod` (README, "read replicas") reaches the app
    processes the supervisor restarts, `scripts/prod.py manage` and the next start, as
    every other setting does: each REPLICA_* setting the app reads, by the same name."""
    prod = load_prod()
    given = {"DATABASE_REPLICA_URL": "postgis://hazards:pw@replica1.example/hazards"}
    given |= {name: "7" for name in dir(settings) if name.startswith("REPLICA_")}
    assert len(given) > 1
    monkeypatch.setenv("PROD_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", "postgis://u:p@127.0.0.1:5432/hazards")
    monkeypatch.setenv("PROD_USER", "root")
    for name, value in given.items():
        monkeypatch.setenv(name, value)
    prod.Stack().configure()

    for name in given:
        monkeypatch.delenv(name)
    later = prod.Stack().app_env()
    assert {name: later.get(name) for name in given} == given


def test_roots_tools_are_found_under_crons_path(monkeypatch):
    """Cron runs `scripts/prod.py manage backup` with PATH=/usr/bin:/bin, without /usr/sbin
    where runuser and useradd are: the stack finds them all the same (the check that the
    service user can run the app runs runuser), whoever runs this test."""
    prod = load_prod()
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    for name in ("runuser", "useradd"):
        found = prod.tool(name)
        assert os.path.isabs(found) and os.access(found, os.X_OK), name


def test_every_setting_the_readme_lists_for_the_stack_is_kept_for_later_starts():
    """README "Production", **Settings.**: each comes from the environment, else from what
    the last start used. A setting missing from the env file (mail for order reminders was)
    reaches neither `scripts/prod.py manage`, nor the systemd unit's stack, nor a change at
    the next `make prod`."""
    prod = load_prod()
    text = (settings.BASE_DIR / "README.md").read_text()
    table = text.split("**Settings.** Each comes from the environment", 1)[1].split("\n\n", 2)[1]
    named = set()
    for row in table.splitlines()[2:]:
        named |= set(re.findall(r"`([A-Z][A-Z_0-9]+)`", row.split(" | ")[0]))
    not_kept = {"PROD_DIR", "PROD_READY_SECONDS"}  # where the env file is; one start's wait
    assert sorted(named - not_kept - set(prod.APP_SETTINGS + prod.STACK_SETTINGS)) == []


def test_every_setting_read_from_the_environment_is_kept_for_later_starts():
    """The settings read more of the environment than the env file kept: the database's
    connect timeout, HSTS, the documents' fonts and PostgreSQL's tools reached a start
    given them but neither `scripts/prod.py manage` nor the systemd unit's stack."""
    prod = load_prod()
    read = set()
    for path in (settings.BASE_DIR / "config" / "settings").glob("*.py"):
        read |= set(re.findall(r"""os\.environ(?:\.get)?[\[(]["']([A-Z][A-Z_0-9]+)["']""", path.read_text()))
    not_kept = {
        "BENCH_DB",  # the benchmarks' database (config/settings/bench.py)
        "DJANGO_SECRET_KEY",  # the stack keeps the key in its file, DJANGO_SECRET_KEY_FILE
    }
    assert sorted(read - not_kept - set(prod.APP_SETTINGS + prod.STACK_SETTINGS)) == []
