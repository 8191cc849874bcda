"""The sites in the user's areas as a file to download (GeoJSON, CSV, XLSX at once; the
GIS formats and large or national exports as a job), under the REST API's filters."""

from django.conf import settings
from django.http import FileResponse, StreamingHttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework.views import APIView

from accounts.scope import scope_for

from . import exports, selectors
from .job_pages import JOB_STATE, job_started
from .rest import SITE_FILTERS
from .tasks import EXPORT_JOB

EXPORT_TYPES = {
    "geojson": "application/geo+json",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "gpkg": "application/geopackage+sqlite3",
    "shp": "application/zip",
    "kml": "application/vnd.google-earth.kml+xml",
}


# Converted by GDAL from a full GeoJSON first: always a job.
JOB_FORMATS = {"gpkg", "shp", "kml"}


class SiteExportView(APIView):
    """The sites in the user's areas with their current state, in GIS and office formats.
    Takes the same filters as /api/v1/sites/. GeoPackage, Shapefile and KML, exports of
    more than EXPORT_INLINE_MAX_SITES sites and national ones (the whole country, no area or
    bbox) are made by the worker: a browser is sent to the job's page, a script gets 202 with
    the job to follow (/api/v1/jobs/<id>/) and its file once made."""

    @extend_schema(
        parameters=SITE_FILTERS, responses={**{(200, t): bytes for t in EXPORT_TYPES.values()}, 202: JOB_STATE}
    )
    def get(self, request, fmt):
        scope = scope_for(request.user)
        sites = selectors.filtered_sites(request.user, request).order_by("code")
        national = scope.everything and not (request.GET.get("area") or request.GET.get("bbox"))
        if fmt in JOB_FORMATS or national or sites.count() > settings.EXPORT_INLINE_MAX_SITES:
            return job_started(request, kind=EXPORT_JOB, params={"fmt": fmt, "query": request.GET.urlencode()})
        filename = exports.export_name(fmt)
        if fmt == "geojson":
            response = StreamingHttpResponse(exports.geojson_chunks(sites), content_type=EXPORT_TYPES[fmt])
        elif fmt == "csv":
            response = StreamingHttpResponse(exports.csv_chunks(sites), content_type=EXPORT_TYPES[fmt])
        else:
            response = FileResponse(exports.xlsx_file(sites), content_type=EXPORT_TYPES[fmt])
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
