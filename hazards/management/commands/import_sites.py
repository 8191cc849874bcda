from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from accounts.models import User
from areas import crs
from common.numbers import format_number
from hazards.imports import CHOICES, ImportFileError, import_sites, own_words


class Command(BaseCommand):
    help = (
        "Import sites from CSV, XLSX, GeoJSON, GeoPackage, Shapefile or a KoboToolbox/ODK CSV export. "
        "Common column names are recognised; name others with the --*-column options. "
        "Any bad row stops the whole file; importing the same file again creates nothing new."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--as-user", required=True, help="the account the sites are registered by (its areas apply)"
        )
        for field_name in ("lat", "lon", "geopoint", "name", "kind", "id", "depth", "signage", "barrier", "date"):
            parser.add_argument(f"--{field_name}-column")
        parser.add_argument(
            "--crs",
            type=int,
            choices=sorted(crs.SYSTEMS),
            metavar="EPSG",
            help="the coordinate system of a table's coordinates, or of a layer that declares none or one not "
            "identified: 4326 (WGS 84), VN-2000 4756, 3405/3406 (UTM 48/49), 9205-9218, 5897-5899 (TM-3 zones)",
        )
        parser.add_argument("--sheet", help="the sheet of a workbook, or the layer of a GeoPackage, to import")
        parser.add_argument(
            "--update",
            action="store_true",
            help="rows naming a site of the registry by its id (a list exported from it, edited) change that site; "
            "each change is listed; an empty cell changes nothing, “xóa” (or “remove”) in the outline column "
            "removes the site's outline",
        )
        for field_name in CHOICES:
            parser.add_argument(
                f"--{field_name}-word",
                action="append",
                default=[],
                metavar="WORD=CHOICE",
                help=f"a word of the file for a {field_name} the import does not know, e.g. 'ao nuôi cá=ao'",
            )

    def handle(self, *args, **options):
        path = options["file"]
        if not path.exists():
            raise CommandError(_("%(file)s: no such file.") % {"file": path})
        actor = User.objects.filter(username=options["as_user"], is_active=True).first()
        if actor is None:
            raise CommandError(_("No active user %(name)s.") % {"name": options["as_user"]})
        names = {"lat": "latitude", "lon": "longitude", "depth": "depth_m", "date": "inspected_at"}
        mapping = {
            names.get(key, key): options[f"{key}_column"]
            for key in ("lat", "lon", "geopoint", "name", "kind", "id", "depth", "signage", "barrier", "date")
            if options[f"{key}_column"]
        }

        try:
            words = {name: own_words("\n".join(options[f"{name}_word"]), name) for name in CHOICES}
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None

        def progress(done, total):
            self.stderr.write(
                _("%(done)s of %(total)s rows checked") % {"done": format_number(done), "total": format_number(total)}
            )

        try:
            result = import_sites(
                path,
                actor=actor,
                mapping=mapping,
                words=words,
                system=options["crs"],
                progress=progress,
                update=options["update"],
                sheet=options["sheet"],
            )
        except ImportFileError as exc:
            raise CommandError(_("Nothing was imported:") + "\n" + "\n".join(exc.problems)) from None
        for notice in result.notices:
            self.stderr.write(notice)
        if result.problems:
            raise CommandError(_("Nothing was imported:") + "\n" + "\n".join(result.problems))
        for change in result.changes:
            self.stdout.write(change)
        if options["update"]:
            self.stdout.write(
                _("Imported %(created)s sites; updated %(updated)s; %(unchanged)s unchanged.")
                % {
                    "created": format_number(result.created),
                    "updated": format_number(result.updated),
                    "unchanged": format_number(result.unchanged),
                }
            )
        else:
            self.stdout.write(
                _("Imported %(created)s sites; %(unchanged)s were already in the registry.")
                % {"created": format_number(result.created), "unchanged": format_number(result.unchanged)}
            )
