from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from areas.loader import field_map, load_boundaries
from areas.models import Area
from areas.spatialfile import SpatialFileError


class Command(BaseCommand):
    help = (
        "Load administrative boundaries (GeoJSON, Shapefile or GeoPackage, WGS 84) into the area tree. "
        "Files in the official GSO layout (ma_tinh/ma_huyen/ma_xa, ten_*) need no field options. "
        "Load parents before children; reloading updates areas by code and re-assigns sites."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", type=Path)
        parser.add_argument("--code-field", help="field with the area's official code (text)")
        parser.add_argument("--name-field", help="field with the area's name")
        parser.add_argument("--parent-field", help="field with the parent area's code; omit for top-level areas")
        parser.add_argument("--level", choices=Area.Level.values, help="level of the areas in the file(s)")
        parser.add_argument("--unit-type-field", help="field with the unit type (Tỉnh, Xã, Phường…)")
        parser.add_argument("--layer", help="layer name, for files with several layers")

    def handle(self, *args, **options):
        for path in options["files"]:
            if not path.exists():
                raise CommandError(_("%(file)s: no such file.") % {"file": path})
        try:
            fields = field_map(
                code=options["code_field"],
                name=options["name_field"],
                level=options["level"],
                parent=options["parent_field"],
                unit_type=options["unit_type_field"],
            )
            result = load_boundaries(options["files"], fields=fields, level=options["level"], layer=options["layer"])
        except SpatialFileError as exc:
            raise CommandError(_("Nothing was loaded:") + "\n" + "\n".join(exc.problems)) from None
        self.stdout.write(result.summary())
