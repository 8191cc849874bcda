"""`manage.py backup [FOLDER]`: the database, the photos and the settings that matter,
with a manifest of checksums (hazards/backup.py). Meant for a daily timer; see README
"Operations"."""

import shutil
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from hazards.backup import BackupError, backup, backup_lock, backups_in, contents, new_backup_path, unfinished_in


class Command(BaseCommand):
    help = "Back up the database, photos and settings into a new folder with a manifest of checksums."

    def add_arguments(self, parser):
        parser.add_argument(
            "folder",
            nargs="?",
            help="where to write the backup (default: a new dated folder in BACKUP_ROOT)",
        )
        parser.add_argument(
            "--keep",
            type=int,
            default=0,
            help="afterwards keep only this many backups in BACKUP_ROOT (0: keep all)",
        )

    def handle(self, *args, folder=None, keep=0, **options):
        root = Path(settings.BACKUP_ROOT)
        try:
            with backup_lock(root):
                self._back_up(root, folder, keep)
        except BackupError as exc:
            raise CommandError(str(exc)) from None

    def _back_up(self, root: Path, folder: str | None, keep: int) -> None:
        for stopped in unfinished_in(root):
            shutil.rmtree(stopped)
            self.stdout.write(
                _("Removed the unfinished backup %(path)s (a run stopped before its end).") % {"path": stopped}
            )
        earlier = backups_in(root)
        destination = Path(folder) if folder else new_backup_path(root, timezone.now())
        try:
            manifest = backup(destination, previous=earlier[-1] if earlier else None)
        except BackupError:
            shutil.rmtree(destination, ignore_errors=True)
            raise
        self.stdout.write(
            _("Backup written to %(path)s: %(contents)s.") % {"path": destination, "contents": contents(manifest)}
        )
        if keep > 0:
            for old in backups_in(root)[:-keep]:
                shutil.rmtree(old)
                self.stdout.write(_("Removed the old backup %(path)s.") % {"path": old})
