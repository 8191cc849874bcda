"""The import page: upload a file, see its columns and first rows, map the columns to
the registry's fields, check every row, then import. The same import as `import_sites`,
run as a job by the worker (hazards/tasks.py): the run's page shows its progress and then
its outcome."""

import shutil
import time
import uuid
from itertools import islice
from pathlib import Path
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from accounts.scope import may_import, may_reload_boundaries
from areas import crs
from areas.loader import field_map
from areas.models import Area
from areas.spatialfile import SpatialFileError
from common import archives
from common.navigation import links
from common.text import clean_text

from . import file_limits, job_queue, storage_quota
from .import_columns import guess_mapping
from .import_files import EXPORT_LAYERS, ChooseSheet, ImportFileError, read_file, sheets
from .imports import own_words
from .models import ImportRun
from .signals import IMPORTED
from .tasks import BOUNDARIES_JOB

SUFFIXES = (".csv", ".xlsx", ".geojson", ".json", ".gpkg", ".kml", ".kmz", ".zip")
PREVIEW_ROWS = 10
# The registry's fields, in the order the mapping step shows them.
FIELDS = {
    "latitude": gettext_lazy("Latitude"),
    "longitude": gettext_lazy("Longitude"),
    "geopoint": gettext_lazy("Geopoint (KoboToolbox/ODK: latitude longitude)"),
    "name": gettext_lazy("Name"),
    "kind": gettext_lazy("Kind"),
    "id": gettext_lazy("Id (UUID)"),
    "deep_water": gettext_lazy("Deep water"),
    "depth_m": gettext_lazy("Depth (m)"),
    "signage": gettext_lazy("Signage"),
    "barrier": gettext_lazy("Barrier"),
    "inspected_at": gettext_lazy("Inspection date"),
    "responsible_party": gettext_lazy("Responsible party"),
    "notes": gettext_lazy("Notes"),
    "outline": gettext_lazy("Outline (a polygon as WKT or GeoJSON, WGS 84)"),
}


def _system_field() -> forms.Field:
    """The coordinate system a person states: needed for a table of VN-2000 coordinates,
    or a layer that declares none or one the registry cannot identify (areas/crs.py)."""
    return forms.TypedChoiceField(
        label=gettext_lazy("Coordinate system"),
        choices=[("", gettext_lazy("As the file says (WGS 84 longitude/latitude if it says nothing)")), *crs.choices()],
        coerce=int,
        empty_value=None,
        required=False,
    )


class UploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("File"))
    system = _system_field()

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(SUFFIXES):
            raise forms.ValidationError(
                _("Use a CSV, XLSX, GeoJSON, GeoPackage, KML or KMZ file, or a zipped Shapefile.")
            )
        if upload.size > file_limits.MAX_FILE_BYTES:
            raise forms.ValidationError(_("The file is larger than 200 MB: split it, or use manage.py import_sites."))
        return upload


# A person's own words for choices the import does not know, one "word = choice" a line.
WORD_FIELDS = {
    "kind": gettext_lazy("Your words for kinds"),
    "signage": gettext_lazy("Your words for sign states"),
    "barrier": gettext_lazy("Your words for barrier states"),
}


class _MappingForm(forms.Form):
    def words(self) -> dict:
        return {name: self.cleaned_data[f"{name}_words"] for name in WORD_FIELDS if self.cleaned_data[f"{name}_words"]}


def _words_field(name: str, label) -> forms.Field:
    def clean(form):
        try:
            return own_words(form.cleaned_data[f"{name}_words"], name)
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from None

    field = forms.CharField(
        label=label,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": _("e.g. ao nuôi cá = ao")}),
    )
    return field, clean


def columns_form(columns: list[str], data=None, initial=None) -> forms.Form:
    choices = [("", _("(not in the file)")), *[(c, c) for c in columns]]
    fields = {name: forms.ChoiceField(label=label, choices=choices, required=False) for name, label in FIELDS.items()}
    fields["system"] = _system_field()
    fields["update"] = forms.BooleanField(
        label=gettext_lazy("Update the sites the file names by their id (a list exported from the registry)"),
        help_text=gettext_lazy(
            "An empty cell leaves the site's field as it is. To remove a site's outline, write “xóa” (or “remove”) "
            "in its outline column."
        ),
        required=False,
    )
    for name, label in WORD_FIELDS.items():
        fields[f"{name}_words"], fields[f"clean_{name}_words"] = _words_field(name, label)
    return type("MappingForm", (_MappingForm,), fields)(data=data, initial=initial)


def _require_survey(request) -> None:
    if not may_import(request.user):
        raise PermissionDenied


def _forget_old_uploads() -> None:
    """Uploads are working copies, in a folder per person: those older than
    IMPORT_UPLOAD_KEPT_HOURS go when a new one comes, anyone's."""
    root = Path(settings.IMPORT_UPLOAD_ROOT)
    if not root.exists():
        return
    limit = time.time() - settings.IMPORT_UPLOAD_KEPT_HOURS * 3600
    for person in root.iterdir():
        for folder in person.iterdir() if person.is_dir() else ():
            if folder.is_dir() and folder.stat().st_mtime < limit:
                shutil.rmtree(folder, ignore_errors=True)


# The parts of a Shapefile GDAL reads beside the .shp; nothing else leaves the zip.
SHAPEFILE_PARTS = {".shp", ".shx", ".dbf", ".prj", ".cpg"}


def _file_name(name: str) -> str:
    """A file's name is kept with its run and shown on its pages: the stored text rule."""
    try:
        return clean_text(Path(name).name, "file", _("file name"))
    except ValidationError as exc:
        raise ImportFileError(exc.messages) from None


def _room(user, adding: int) -> None:
    try:
        storage_quota.check_room(user, adding)
    except storage_quota.NoRoom as exc:
        raise ImportFileError([str(exc)]) from None


@transaction.atomic
def _store(upload, user) -> Path:
    """The upload kept in a folder of its own, in the person's folder, if they have room
    for it (hazards/storage_quota.py); a zipped Shapefile unpacked there instead. Under
    the person's lock, so that uploads sent at once are counted one after another."""
    name = _file_name(upload.name)
    _forget_old_uploads()
    storage_quota.hold(user)
    _room(user, upload.size)
    folder = storage_quota.upload_folder(user) / uuid.uuid4().hex
    folder.mkdir(parents=True)
    path = folder / name
    with open(path, "wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    if path.suffix.lower() != ".zip":
        return path
    try:
        shapefile = _unzip_shapefile(path, folder, user)
        _file_name(shapefile.name)
        return shapefile
    except archives.ArchiveError as exc:
        problems = [str(exc)]
    except archives.DAMAGED:
        problems = [_("The zip file cannot be read.")]
    except ImportFileError as exc:
        problems = exc.problems
    shutil.rmtree(folder)
    raise ImportFileError(problems)


def _finder_litter(member: str) -> bool:
    """What macOS adds to a zip it makes: __MACOSX/ with a "._" twin of every file (its
    extended attributes), and .DS_Store."""
    name = Path(member).name
    return member.startswith("__MACOSX/") or name.startswith("._") or name == ".DS_Store"


def _unzip_shapefile(path: Path, folder: Path, user) -> Path:
    """A zipped Shapefile: its .shp and the parts beside it, copied out within the
    archive limits (common/archives.py) and the person's room; the .shp is what is read,
    and the zip goes once they are out."""
    with archives.check(path) as archive:
        members = [m for m in archive.namelist() if not m.endswith("/") and not _finder_litter(m)]
        shapes = [m for m in members if m.lower().endswith(".shp")]
        # The registry's own export holds its sites and their outlines (read together).
        if sorted(Path(m).name for m in shapes) == sorted(f"{name}.shp" for name in EXPORT_LAYERS):
            shapes = [m for m in shapes if Path(m).stem == EXPORT_LAYERS[0]]
            stems = set(EXPORT_LAYERS)
        elif len(shapes) == 1:
            stems = {Path(shapes[0]).stem}
        else:
            raise ImportFileError([_("The zip must hold exactly one Shapefile (.shp with its .dbf and .shx).")])
        wanted = [m for m in members if Path(m).stem in stems and Path(m).suffix.lower() in SHAPEFILE_PARTS]
        # What is read may unpack to no more than a file sent; the archive's own limit is larger.
        unpacked = sum(archive.getinfo(member).file_size for member in wanted)
        if unpacked > file_limits.MAX_FILE_BYTES:
            raise ImportFileError([f"{path.name}: {file_limits.too_large_unpacked(shapes[0])}."])
        _room(user, unpacked)
        for member in wanted:
            archives.extract(archive, member, folder / Path(member).name)
    path.unlink()
    return folder / Path(shapes[0]).name


def _upload_of(request, upload_id: str) -> Path:
    """An upload belongs to the session that sent it; anyone else gets 404."""
    path = request.session.get("imports", {}).get(upload_id)
    if not path or not Path(path).exists():
        raise Http404
    return Path(path)


@login_required
def upload(request):
    _require_survey(request)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            path = _store(form.cleaned_data["file"], request.user)
        except ImportFileError as exc:
            return render(request, "imports/upload.html", {"form": form, "problems": exc.problems}, status=400)
        upload_id = path.parent.name
        request.session["imports"] = {**request.session.get("imports", {}), upload_id: str(path)}
        system = form.cleaned_data["system"]
        query = f"?{urlencode({'system': system})}" if system else ""
        return redirect(reverse("import-preview", args=[upload_id]) + query)
    return render(request, "imports/upload.html", {"form": form}, status=400 if form.errors else 200)


def _stated_system(value: str | None) -> int | None:
    # Compared as text: isdigit() holds for "²", and for 5,000 digits, which int() refuses.
    return next((code for code in crs.SYSTEMS if value == str(code)), None)


@login_required
def preview(request, upload_id: str):
    _require_survey(request)
    path = _upload_of(request, upload_id)
    system = _stated_system(request.POST.get("system") or request.GET.get("system"))
    # The sheet of a workbook or layer of a GeoPackage, chosen above the preview.
    sheet = request.GET.get("sheet", "")
    choosing = {"name": path.name, "sheet": sheet, "system": system}
    try:
        choosing["sheets"] = sheets(path)
        source = read_file(path, system, sheet, preview=True)
        columns = source.columns
        # One row more than shown tells whether there are more: only the check counts them all.
        first_rows = [row for _number, row in islice(source.rows(), PREVIEW_ROWS + 1)]
    except ChooseSheet as exc:
        return render(request, "imports/preview.html", {**choosing, "problems": exc.problems})
    except ImportFileError as exc:
        return render(request, "imports/upload.html", {"form": UploadForm(), "problems": exc.problems}, status=400)
    # Columns chosen before (the link back from a check) win over the guesses.
    chosen = {name: request.GET[name] for name in FIELDS if request.GET.get(name) in columns}
    if request.GET.get("update"):
        chosen["update"] = True
    initial = {**guess_mapping(columns), **chosen, **({"system": system} if system else {})}
    form = columns_form(columns, data=request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        mapping = {field: form.cleaned_data[field] for field in FIELDS if form.cleaned_data[field]}
        try:  # the run takes a copy of the upload into the database until it ends
            _room(request.user, sum(part.stat().st_size for part in path.parent.iterdir()))
        except ImportFileError as exc:
            return render(request, "imports/preview.html", {**choosing, "problems": exc.problems}, status=400)
        try:
            run = job_queue.import_run_start(
                actor=request.user,
                path=path,
                mapping=mapping,
                words=form.words(),
                system=form.cleaned_data["system"],
                update=form.cleaned_data["update"],
                sheet=sheet,
                dry_run=request.POST.get("action") != "import",
                language=get_language(),
            )
        except ValidationError as exc:
            return render(request, "imports/preview.html", {**choosing, "problems": exc.messages}, status=400)
        return redirect("import-run", run_id=run.pk)
    context = {
        **choosing,
        "form": form,
        "columns": columns,
        "rows": [[row.get(c, "") for c in columns] for row in first_rows[:PREVIEW_ROWS]],
        "count": len(first_rows) if len(first_rows) <= PREVIEW_ROWS else source.said,  # None: more, not counted
    }
    return render(request, "imports/preview.html", context, status=400 if form.errors else 200)


@login_required
def run_page(request, run_id):
    """A run's progress while it goes (the page reloads itself), then its outcome. Only the
    person who started it sees it."""
    run = get_object_or_404(ImportRun, pk=run_id, created_by=request.user)
    context = {
        "run": run,
        "name": run.file_name,
        "dry_run": run.dry_run,
        "result": run,
        "problems": run.problems,
        "upload_id": run.upload_id,
        "see_imported": links(IMPORTED, request.user),
        "mapping": urlencode(
            {
                **run.mapping,
                **({"system": run.system} if run.system else {}),
                **({"update": "1"} if run.update else {}),
                **({"sheet": run.sheet} if run.sheet else {}),
            }
        ),
    }
    return render(request, "imports/run.html", context)


BOUNDARY_SUFFIXES = (".geojson", ".json", ".gpkg", ".zip")


class BoundaryForm(forms.Form):
    """A boundary file for the area tree, with load_areas' options."""

    file = forms.FileField(label=gettext_lazy("File"))
    layer = forms.CharField(label=gettext_lazy("Layer (a file with several)"), required=False)
    level = forms.ChoiceField(
        label=gettext_lazy("Level"), choices=[("", gettext_lazy("As the GSO fields say")), *Area.Level.choices],
        required=False,
    )  # fmt: skip
    code = forms.CharField(label=gettext_lazy("Code field"), required=False)
    name = forms.CharField(label=gettext_lazy("Name field"), required=False)
    parent = forms.CharField(label=gettext_lazy("Parent code field"), required=False)
    unit_type = forms.CharField(label=gettext_lazy("Unit type field"), required=False)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(BOUNDARY_SUFFIXES):
            raise forms.ValidationError(_("Use a GeoJSON or GeoPackage file, or a zipped Shapefile (WGS 84)."))
        if upload.size > file_limits.MAX_FILE_BYTES:
            raise forms.ValidationError(_("The file is larger than 200 MB: use manage.py load_areas."))
        return upload

    def clean(self):
        data = super().clean()
        names = {"code", "name", "parent", "unit_type"}
        self.fields_named = {name: data.get(name) or None for name in names}
        try:
            field_map(**self.fields_named, level=data.get("level") or None)
        except SpatialFileError as exc:
            raise forms.ValidationError(exc.problems) from None
        return data


@login_required
def boundaries(request):
    """The whole country's administrator reloads a boundary set (may_reload_boundaries):
    the worker loads the file as `load_areas` does (one transaction; sites re-assigned),
    and the job's page says what it did."""
    if not may_reload_boundaries(request.user):
        raise PermissionDenied
    form = BoundaryForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            path = _store(form.cleaned_data["file"], request.user)
        except ImportFileError as exc:
            return render(request, "imports/boundaries.html", {"form": form, "problems": exc.problems}, status=400)
        params = {
            "upload": path.name,
            "fields": form.fields_named,
            "level": form.cleaned_data["level"],
            "layer": form.cleaned_data["layer"],
        }
        try:
            run = job_queue.job_start(
                actor=request.user, kind=BOUNDARIES_JOB, params=params, language=get_language(), upload=path
            )
        finally:
            shutil.rmtree(path.parent)  # in the database now
        return redirect("job-page", run_id=run.pk)
    return render(request, "imports/boundaries.html", {"form": form}, status=400 if form.errors else 200)
