from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from areas.spatialfile import SpatialFileError
from common.numbers import format_number
from mapping.models import Place
from mapping.places import load_places


class Command(BaseCommand):
    help = (
        "Load the schools and kindergartens (points, GeoJSON, Shapefile or GeoPackage, WGS 84) that the "
        "priority list measures distances to. The file replaces the layer; a bad feature stores nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--name-field", help="field with the name (found by itself if named name or ten)")
        parser.add_argument("--kind-field", help="field saying school or kindergarten (kind, type, loai, amenity)")
        parser.add_argument("--kind", choices=Place.Kind.values, help="the kind of every place in the file")
        parser.add_argument("--layer", help="layer name, for files with several layers")

    def handle(self, *args, **options):
        path = options["file"]
        if not path.exists():
            raise CommandError(_("%(file)s: no such file.") % {"file": path})
        try:
            count = load_places(
                path,
                name_field=options["name_field"],
                kind_field=options["kind_field"],
                kind=options["kind"],
                layer=options["layer"],
            )
        except SpatialFileError as exc:
            raise CommandError(_("Nothing was loaded:") + "\n" + "\n".join(exc.problems)) from None
        self.stdout.write(_("Loaded %(n)s schools and kindergartens.") % {"n": format_number(count)})
