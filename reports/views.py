"""Report pages: the progress table with its pictures, the sites behind each number, the
table as CSV or XLSX and the report as a document (PDF, DOCX); submitting a period's
report, the reports submitted per area and period, one as submitted with what has
changed since, and the decision of the area above. Every area passes the scope check;
bad input is answered on the page with the form's message (400), not a bare error."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.scope import MANAGE, VIEW, OutOfScope, scope_for
from areas.models import Area
from areas.selectors import areas_geojson
from common.errors import data_login_required, refused_for
from common.forms import add_refusal
from hazards.filters import ORDER_PERIOD_LABELS
from hazards.job_pages import job_started
from hazards.models import Barrier, RemediationOrder, Signage, SiteKind
from hazards.order_selectors import LIST_ORDER, orders_for, with_overdue
from hazards.rules import evidence_days

from . import documents, files, notices, services, submissions
from .forms import FIRST_YEAR, LAST_YEAR, SHOWN_MATCHES, DecisionForm, ReportForm, SubmissionForm, matching_areas
from .models import ReportSubmission, SubmissionStatus
from .numbers import format_percent
from .orders import COLUMNS as ORDER_COLUMNS
from .orders import frozen_ids, frozen_order_table, order_changes, order_table
from .selectors import INDICATOR_FILTERS, Country, progress_report, sites_behind, trend
from .table import COLUMNS, heading_rows, text
from .tasks import REPORT_DOCUMENT_JOB

INDICATOR_LABELS = {
    "counting": gettext_lazy("Sites counting toward the target"),
    "signed": gettext_lazy("Signed sites"),
    "fenced": gettext_lazy("Fenced sites"),
    "protected": gettext_lazy("Protected sites"),
    "not_signed": gettext_lazy("Sites without a sign in place"),
    "not_fenced": gettext_lazy("Sites without a complete barrier"),
    "not_protected": gettext_lazy("Sites not protected"),
    "inspected": gettext_lazy("Sites inspected in the period"),
    "with_photo": gettext_lazy("Sites with photo evidence"),
    "unverified": gettext_lazy("Sites whose state is unverified"),
}


def _form(request) -> ReportForm:
    return ReportForm(request.GET, user=request.user)


def _period_query(form: ReportForm, area=None) -> str:
    """The query string naming the form's period and, if given, an area (by code)."""
    shown = form.shown()
    params = {k: shown[k] for k in ("kind", "year", "half", "start", "end") if shown[k]}
    if area is not None and area.pk is not None:
        params["area"] = area.code
    return urlencode(params)


def _breadcrumbs(area, request) -> list[Area]:
    visible = scope_for(request.user).restrict(Area.objects.all(), VIEW)
    ancestors = [p for p in area.path.strip("/").split("/")[:-1] if p]
    return list(visible.filter(code__in=ancestors).order_by("depth"))


def _submission_for(area, period):
    return (
        ReportSubmission.objects.filter(area_id=area.pk, period_start=period.start, period_end=period.end)
        .exclude(status=SubmissionStatus.RETURNED)
        .select_related("submitted_by")
        .first()
    )


def _may_submit(request, area, period) -> bool:
    return scope_for(request.user).allows_area_or_country(MANAGE, area) and period.end < timezone.localdate()


def _header() -> dict:
    top, under = heading_rows()
    return {"heading_top": top, "heading_under": under}


def _table_rows(report, query: str, links: str) -> list[dict]:
    """The table's rows for a template: per cell its text and the link to its list."""
    area_code = report.area.code

    def cells(row, child):
        result = []
        for column in COLUMNS:
            cell = {"text": text(row, column), "key": column.key, "kind": column.kind}
            if column.links:
                params = f"{query}&area={area_code}&indicator={column.key}"
                cell["href"] = f"{links}?{params}" + ("" if child is None else f"&child={child}")
            result.append(cell)
        return result

    rows = [
        {"row": row, "code": row.area.code if row.area else "", "cells": cells(row, row.area.code if row.area else "")}
        for row in report.rows
    ]
    rows.append({"row": report.total, "code": "*", "cells": cells(report.total, None), "total": True})
    return rows


@login_required
@require_GET
def report_page(request):
    form = _form(request)
    if not form.is_valid():
        return render(request, "reports/report.html", {"form": form, "shown": form.shown()}, status=400)
    area, period = form.cleaned_data["area"], form.cleaned_data["period"]
    report = progress_report(area, period)
    orders = order_table(area, period, request.user)
    shares = {row.area.code: row.share("protected") for row in report.rows if row.area}
    bars = [
        {
            "name": row.area.name if row.area else _("Directly in the area"),
            "share": row.pct_protected,
            "target": float(row.targets["protected"]),
            "text": format_percent(row.share("protected")),
        }
        for row in report.rows
        if row.counts["counting"]
    ]
    points = trend(area, period)
    query = _period_query(form)
    context = {
        "form": form,
        "shown": form.shown(),
        "report": report,
        "table": _table_rows(report, query, reverse("report-sites")),
        **_header(),
        "bars": bars,
        "trend": points,
        "trend_svg": _trend_svg(points),
        "breadcrumbs": _breadcrumbs(area, request),
        "query": query,
        "submission": _submission_for(area, period),
        "may_submit": _may_submit(request, area, period),
        "orders": orders,
        "order_columns": ORDER_COLUMNS,
        "evidence": evidence_days(),
        "children_map": areas_geojson(
            area.children.all(),
            tolerance_deg=0.0005,
            properties=lambda a: {
                "protected": float(shares[a.code]) if shares.get(a.code) is not None else None,
                "protected_text": format_percent(shares.get(a.code)) or "–",
            },
        ),
    }
    return render(request, "reports/report.html", context)


def _trend_svg(points, width=520, height=150, pad=44, inset=64) -> dict:
    """Coordinates for a small inline SVG line chart of the protected share: `pad` above and
    below, `inset` on each side, room for half a period's name centred under its point
    ("6 tháng cuối 2024")."""
    step = (width - 2 * inset) / max(1, len(points) - 1)
    dots = [
        {
            "x": inset + i * step,
            "y": height - pad - (float(value) / 100) * (height - 2 * pad),
            "text": format_percent(value),  # as the table writes it
            "label": p.short_label,
        }
        for i, (p, value) in enumerate(points)
        if value is not None
    ]
    return {
        "width": width,
        "height": height,
        "pad": pad,
        "inset": inset,
        "dots": dots,
        "line": " ".join(f"{d['x']:.1f},{d['y']:.1f}" for d in dots),
    }


@data_login_required
@require_GET
def area_search(request):
    """Areas in the user's scope whose name contains what is typed (the area field's suggestions)."""
    text = request.GET.get("q", "").strip()
    found = matching_areas(request.user, text)[:SHOWN_MATCHES] if len(text) >= 2 else []
    return JsonResponse({"areas": [{"code": a.code, "name": a.name, "label": f"{a.name} ({a.code})"} for a in found]})


def _labelled(sites: list[dict], child_names: dict[str, str]) -> list[dict]:
    for site in sites:
        site["kind_label"] = SiteKind(site["kind"]).label if site["kind"] in SiteKind.values else site["kind"]
        site["signage_label"] = Signage(site["signage"]).label if site["signage"] else _("never inspected")
        site["barrier_label"] = Barrier(site["barrier"]).label if site["barrier"] else _("never inspected")
        site["area_name"] = child_names.get(site["child_code"], "")
    return sites


def _indicator(request) -> str:
    indicator = request.GET.get("indicator", "counting")
    if indicator not in INDICATOR_FILTERS:
        raise ValidationError(_("Unknown list %(name)s.") % {"name": indicator})
    return indicator


@login_required
@require_GET
def report_sites(request):
    form = _form(request)
    try:
        indicator = _indicator(request)
    except ValidationError as exc:
        add_refusal(form, exc)
    if not form.is_valid():
        return render(request, "reports/report.html", {"form": form, "shown": form.shown()}, status=400)
    area, period = form.cleaned_data["area"], form.cleaned_data["period"]
    child = request.GET.get("child")
    children = {c.code: c for c in area.children.all()}
    sites = sites_behind(area, period, indicator, child_code=child)
    context = {
        "area": area,
        "child": children.get(child) if child else None,
        "period": period,
        "indicator_label": INDICATOR_LABELS[indicator],
        "sites": _labelled(sites, {code: c.name for code, c in children.items()}),
        "back": f"{reverse('report')}?{_period_query(form, area)}",
    }
    return render(request, "reports/sites.html", context)


FILE_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _file_response(body: bytes, content_type: str, name: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_GET
def report_file(request, fmt):
    form = _form(request)
    if not form.is_valid():
        return refused_for(request, ValidationError(form.errors))
    area, period = form.cleaned_data["area"], form.cleaned_data["period"]
    if fmt in documents.RENDERERS and isinstance(area, Country):
        # The national document reads every province: the worker makes it, its page follows.
        return job_started(request, kind=REPORT_DOCUMENT_JOB, params={"query": request.GET.urlencode(), "fmt": fmt})
    report = progress_report(area, period)
    orders = order_table(area, period, request.user)
    name = files.file_name(area, period, fmt)
    if fmt in documents.RENDERERS:
        body = documents.render(documents.for_report(report, orders), fmt)
        return _file_response(body, documents.RENDERERS[fmt][0], name)
    if fmt == "csv":
        body = files.as_csv(report, orders, semicolon=request.GET.get("sep") == "semicolon")
    else:
        body = files.as_xlsx(report, orders)
    return _file_response(body, FILE_TYPES[fmt], name)


# Submissions -------------------------------------------------------------------------


def _visible_submission(request, pk) -> ReportSubmission:
    submission = get_object_or_404(ReportSubmission.objects.select_related("area__parent", "submitted_by"), pk=pk)
    if not scope_for(request.user).allows_area_or_country(VIEW, submission.area):
        raise Http404
    return submission


@login_required
@require_GET
def submission_list(request):
    """The reports submitted in the user's areas, by area and period, newest first."""
    found = scope_for(request.user).restrict(
        ReportSubmission.objects.select_related("area", "submitted_by", "decided_by"), VIEW
    )
    year_text = request.GET.get("year", "")
    area_text = request.GET.get("area", "").strip()
    errors = []
    if year_text:
        # Digits of other scripts pass isdigit() but not int(); a year past the calendar's overflows.
        year = int(year_text) if year_text.isascii() and year_text.isdigit() else None
        if year is not None and FIRST_YEAR <= year <= LAST_YEAR:
            found = found.filter(period_start__year__lte=year, period_end__year__gte=year)
        else:
            errors.append(
                _("The year is a number from %(first)d to %(last)d, e.g. 2025.")
                % {"first": FIRST_YEAR, "last": LAST_YEAR}
            )
    if area_text:
        areas = matching_areas(request.user, area_text)
        if not areas:
            errors.append(_("No area named “%(text)s” in your areas.") % {"text": area_text})
        else:
            found = found.filter(area__in=areas)
    context = {
        "submissions": found.order_by("area__path", "-period_start", "-submitted_at")[:500],
        "errors": errors,
        "area_text": area_text,
        "year_text": year_text,
    }
    return render(request, "reports/submissions.html", context, status=400 if errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def submission_new(request):
    """Submit the report of the area and period named in the query string."""
    form = _form(request)
    if not form.is_valid():
        return render(request, "reports/report.html", {"form": form, "shown": form.shown()}, status=400)
    area, period = form.cleaned_data["area"], form.cleaned_data["period"]
    if not scope_for(request.user).allows_area_or_country(MANAGE, area):
        raise Http404
    defaults = documents.default_details(area)
    details = SubmissionForm(
        request.POST or None,
        initial={**defaults.__dict__, "recipients": "\n".join(defaults.recipients)},
    )
    if request.method == "POST" and details.is_valid():
        try:
            submission = services.report_submit(actor=request.user, area=area, period=period, **details.cleaned_data)
        except ValidationError as exc:
            add_refusal(details, exc)
        else:
            return redirect("submission-detail", pk=submission.pk)
    context = {
        "form": details,
        "area": area,
        "period": period,
        "query": _period_query(form, area),
        "existing": _submission_for(area, period),
    }
    return render(request, "reports/submission_new.html", context, status=400 if details.errors else 200)


def _detail(request, submission: ReportSubmission, decision_form: DecisionForm, status: int = 200):
    """The report as submitted, each cell that recomputing now changes marked with its
    number now, the sites that changed it and their late records."""
    report = submissions.frozen_report(submission)
    found = submissions.changes(submission)
    table = _table_rows(report, "", reverse("submission-sites", args=[submission.pk]))
    for row in table:
        for cell, column in zip(row["cells"], COLUMNS, strict=True):
            if (row["code"], column.key) in found.cells:
                cell["now"] = text(_row_of(found.now, row["code"]), column)
    children = [row.area for row in report.rows if row.area is not None]
    orders = frozen_order_table(submission, report.area, children)
    changed_orders = order_changes(orders, report.area, submission.period, request.user) if orders else 0
    context = {
        "submission": submission,
        "report": report,
        "table": table,
        **_header(),
        "changes": found,
        "changed_cells": len(found.cells) + changed_orders,
        "orders": orders,
        "order_columns": ORDER_COLUMNS,
        "may_decide": submission.status == SubmissionStatus.SUBMITTED and services.may_decide(request.user, submission),
        "decision_form": decision_form,
        "live": f"{reverse('report')}?{_submission_query(submission)}",
    }
    return render(request, "reports/submission.html", context, status=status)


@login_required
@require_GET
def submission_detail(request, pk):
    return _detail(request, _visible_submission(request, pk), DecisionForm())


def _row_of(report, code: str):
    if code == submissions.TOTAL:
        return report.total
    return next(r for r in report.rows if (r.area.code if r.area else "") == code)


def _submission_query(submission: ReportSubmission) -> str:
    period = submission.period
    params = {"kind": period.kind, "year": period.start.year, "half": 1 if period.start.month == 1 else 2}
    if period.kind == "range":
        params = {"kind": "range", "start": period.start.isoformat(), "end": period.end.isoformat()}
    if submission.area_id:
        params["area"] = submission.area.code
    return urlencode(params)


@login_required
@require_GET
def submission_sites(request, pk):
    submission = _visible_submission(request, pk)
    try:
        indicator = _indicator(request)
    except ValidationError as exc:
        return refused_for(request, exc)
    child = request.GET.get("child")
    names = submission.numbers["children"]
    context = {
        "area": submissions.area_of(submission),
        "child_name": names.get(child) if child else None,
        "period": submission.period,
        "indicator_label": INDICATOR_LABELS[indicator],
        "sites": _labelled(submissions.frozen_sites(submission, indicator, child), names),
        "submission": submission,
        "back": reverse("submission-detail", args=[submission.pk]),
    }
    return render(request, "reports/sites.html", context)


@login_required
@require_GET
def submission_orders(request, pk):
    """The remediation orders behind a number of the submitted report, as submitted (an
    order deleted since is still listed: the number counted it)."""
    submission = _visible_submission(request, pk)
    event, child = request.GET.get("event", ""), request.GET.get("child")
    ids = frozen_ids(submission, event, child)
    if ids is None:
        choices = ", ".join(ORDER_PERIOD_LABELS)
        return refused_for(request, ValidationError({"event": _("Choose one of: %(choices)s.") % {"choices": choices}}))
    found = scope_for(request.user).restrict(
        with_overdue(RemediationOrder.all_objects.filter(pk__in=ids).select_related("site__area", "follow_up")), VIEW
    )
    names = submission.numbers["children"]
    context = {
        "area": submissions.area_of(submission),
        "child_name": names.get(child) if child else None,
        "period": submission.period,
        "label": ORDER_PERIOD_LABELS[event],
        "orders": list(found.order_by(*LIST_ORDER)),
        "submission": submission,
        "today": timezone.localdate(),
        "back": reverse("submission-detail", args=[submission.pk]),
    }
    return render(request, "reports/submission_orders.html", context)


@login_required
@require_GET
def submission_document(request, pk, fmt):
    submission = _visible_submission(request, pk)
    body = documents.render(documents.for_submission(submission), fmt)
    name = slugify(_("report") + f"-{submission.number}-{submission.symbol}") + f".{fmt}"
    return _file_response(body, documents.RENDERERS[fmt][0], name)


@login_required
@require_POST
def submission_decide(request, pk):
    submission = _visible_submission(request, pk)
    form = DecisionForm(request.POST)
    if form.is_valid():
        try:
            services.report_decide(
                actor=request.user,
                submission=submission,
                approve=form.cleaned_data["decision"] == "approve",
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            add_refusal(form, exc)
        except OutOfScope:
            raise Http404 from None
        else:
            return redirect("submission-detail", pk=submission.pk)
    return _detail(request, submission, form, status=400)


@login_required
@require_GET
def order_notice(request, pk, fmt):
    """A remediation order's notice to the site's owner, as PDF or DOCX: with the number
    and date it was issued with, or before that a draft without a number."""
    if fmt not in notices.CONTENT_TYPES:
        raise Http404
    order = get_object_or_404(orders_for(request.user), pk=pk)
    response = HttpResponse(notices.render(order, fmt), content_type=notices.CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{slugify(_("notice"))}-{order.site.code}.{fmt}"'
    return response
