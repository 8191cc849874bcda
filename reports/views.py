"""Report pages: the progress table with its pictures, the sites behind each number, and
the same table as CSV, XLSX or PDF. Every area passes the area-scope check."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from accounts.scope import VIEW, scope_for
from areas.models import Area
from areas.selectors import areas_geojson
from hazards.job_pages import job_accepted
from hazards.models import Barrier, Signage, SiteKind
from hazards.services import job_start

from . import files
from .forms import area_and_period
from .selectors import INDICATOR_FILTERS, Country, progress_report, sites_behind, trend
from .tasks import REPORT_PDF_JOB


def _period_query(request) -> str:
    """The period part of the query string, to which links add their own area."""
    params = request.GET.copy()
    for key in ("area", "indicator", "child"):
        params.pop(key, None)
    return params.urlencode()


def _breadcrumbs(area: Area, request) -> list[Area]:
    visible = scope_for(request.user).restrict(Area.objects.all(), VIEW)
    ancestors = [p for p in area.path.strip("/").split("/")[:-1]]
    return list(visible.filter(code__in=ancestors).order_by("depth"))


@login_required
def report_page(request):
    form, area, period = area_and_period(request.user, request.GET)
    if area is None:
        return render(request, "reports/report.html", {"form": form}, status=400)
    report = progress_report(area, period)
    shares = {row.area.code: row.share("protected") for row in report.rows if row.area}
    points = trend(area, period)
    context = {
        "form": form,
        "report": report,
        "trend": points,
        "trend_svg": _trend_svg(points),
        "breadcrumbs": _breadcrumbs(area, request),
        "query": _period_query(request),
        "children_map": areas_geojson(
            area.children.all(), tolerance_deg=0.0005, properties=lambda a: {"protected": shares.get(a.code)}
        ),
    }
    return render(request, "reports/report.html", context)


def _trend_svg(points, width=520, height=150, pad=44) -> dict:
    """Coordinates for a small inline SVG line chart of the protected share."""
    step = (width - 2 * pad) / max(1, len(points) - 1)
    dots = [
        {"x": pad + i * step, "y": height - pad - (value / 100) * (height - 2 * pad), "value": value, "label": p.label}
        for i, (p, value) in enumerate(points)
        if value is not None
    ]
    return {
        "width": width,
        "height": height,
        "pad": pad,
        "dots": dots,
        "line": " ".join(f"{d['x']:.1f},{d['y']:.1f}" for d in dots),
    }


@login_required
def report_sites(request):
    _form, area, period = area_and_period(request.user, request.GET)
    indicator = request.GET.get("indicator", "counting")
    if area is None or indicator not in INDICATOR_FILTERS:
        raise Http404
    child = request.GET.get("child")
    sites = sites_behind(area, period, indicator, child_code=child)
    child_area = area.children.filter(code=child).first() if child else None
    for site in sites:
        site["kind_label"] = SiteKind(site["kind"]).label
        site["signage_label"] = Signage(site["signage"]).label if site["signage"] else _("never inspected")
        site["barrier_label"] = Barrier(site["barrier"]).label if site["barrier"] else _("never inspected")
    context = {
        "area": area,
        "child": child_area,
        "period": period,
        "indicator_label": INDICATOR_LABELS[indicator],
        "sites": sites,
        "query": f"{_period_query(request)}&area={area.code}",
    }
    return render(request, "reports/sites.html", context)


INDICATOR_LABELS = {
    "counting": _lazy("Sites counting toward the target"),
    "signed": _lazy("Signed sites"),
    "fenced": _lazy("Fenced sites"),
    "protected": _lazy("Protected sites"),
    "not_signed": _lazy("Sites without a sign in place"),
    "not_fenced": _lazy("Sites without a complete barrier"),
    "not_protected": _lazy("Sites not protected"),
    "inspected": _lazy("Sites inspected in the period"),
    "with_photo": _lazy("Sites with photo evidence"),
    "unverified": _lazy("Sites whose state is unverified"),
}

FORMATS = {
    "csv": ("text/csv; charset=utf-8", files.as_csv),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", files.as_xlsx),
    "pdf": ("application/pdf", None),
}


@login_required
def report_file(request, fmt):
    """The report as a file; the national PDF is made by the worker (its page follows it)."""
    _form, area, period = area_and_period(request.user, request.GET)
    if area is None:
        return HttpResponse(_("Choose a valid area and period."), status=400, content_type="text/plain; charset=utf-8")
    if fmt == "pdf" and isinstance(area, Country):
        params = {"query": request.GET.urlencode()}
        run = job_start(actor=request.user, kind=REPORT_PDF_JOB, params=params, language=get_language())
        return job_accepted(request, run)
    report = progress_report(area, period)
    content_type, write = FORMATS[fmt]
    body = files.as_pdf(report, trend(area, period)) if fmt == "pdf" else write(report)
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{files.file_name(area, period, fmt)}"'
    return response
