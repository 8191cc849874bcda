"""`manage.py restore FOLDER`: a backup back into an empty database and media folder,
every checksum checked before anything is written (hazards/backup.py)."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from common.numbers import format_number
from hazards.backup import BackupError, Target, contents, database_libpq, restore, settings_differences, verify


class Command(BaseCommand):
    help = "Restore a backup into an empty database and an empty media folder."

    def add_arguments(self, parser):
        parser.add_argument("folder", help="the backup folder (it holds manifest.json)")
        parser.add_argument("--check", action="store_true", help="only verify the backup's checksums; restore nothing")
        parser.add_argument(
            "--database-url",
            help="restore into this database instead of the configured one (e.g. to test a backup)",
        )
        parser.add_argument("--media-root", help="restore the photos here instead of MEDIA_ROOT")
        parser.add_argument(
            "--settings-may-differ",
            action="store_true",
            help="restore even though settings the report numbers depend on differ from the backup's",
        )

    def handle(
        self, *args, folder, check=False, database_url=None, media_root=None, settings_may_differ=False, **options
    ):
        source = Path(folder)
        media = Path(media_root) if media_root else Path(settings.MEDIA_ROOT)
        target = Target(libpq=database_libpq(database_url), media_root=media)
        try:
            if check:
                manifest = verify(source)
                message = _("The backup is complete: %(n)s files match their checksums.")
                self.stdout.write(message % {"n": format_number(len(manifest["files"]))})
                return
            manifest = restore(source, target, settings_may_differ=settings_may_differ)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        for warning in settings_differences(source):
            self.stderr.write(warning)
        self.stdout.write(
            _("Restored from the backup of %(when)s: %(contents)s.")
            % {"contents": contents(manifest), "when": manifest["created_at"]}
        )
