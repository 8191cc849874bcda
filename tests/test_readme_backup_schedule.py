"""The backup schedule the README gives operators: the daily backup at 02:30 in Vietnam
whatever the server's clock, and a failed one that someone hears of."""

import re
import shutil
import subprocess
from pathlib import Path

from django.conf import settings

README = Path(settings.BASE_DIR) / "README.md"


def backup_units() -> dict[str, str]:
    """The systemd units of the README's backup schedule, by file name."""
    text = README.read_text()
    block = text.split("# /etc/systemd/system/hazard-registry-backup.service\n", 1)[1].split("```", 1)[0]
    parts = re.split(
        r"^# /etc/systemd/system/(\S+)\n", "# /etc/systemd/system/hazard-registry-backup.service\n" + block, flags=re.M
    )
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_the_backup_runs_at_half_past_two_in_the_registrys_time_zone():
    timer = backup_units()["hazard-registry-backup.timer"]
    calendar = re.search(r"^OnCalendar=(.+)$", timer, flags=re.M).group(1)
    assert calendar == f"*-*-* 02:30 {settings.TIME_ZONE}"
    if shutil.which("systemd-analyze"):  # systemd reads it so (252 takes a zone suffix)
        shown = subprocess.run(["systemd-analyze", "calendar", calendar], capture_output=True, text=True, check=True)
        assert f"02:30:00 {settings.TIME_ZONE}" in shown.stdout


def test_a_failed_backup_starts_the_unit_that_reports_it():
    units = backup_units()
    failed = re.search(r"^OnFailure=(\S+)$", units["hazard-registry-backup.service"], flags=re.M)
    assert failed, "the backup service names no OnFailure= unit"
    assert "ExecStart=" in units[failed.group(1)]
