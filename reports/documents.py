"""The progress report as an administrative document (reports/administrative/): heading, the table by
area, the breakdown by kind of hazard, the manager's assessment, recipients, signature
and an annex listing the sites not protected. The same for a report being prepared (no
number yet) and for one submitted (its frozen numbers and lists). Plain functions: a job
can build a national document (its annex runs to many pages)."""

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from common.numbers import format_number, share
from hazards.models import Barrier, Signage, SiteKind
from hazards.rules import evidence_days

from . import orders as order_columns
from . import submissions
from .administrative import AdministrativeDocument, Annex, Column, Paragraph, Signature, Table, pdf, word
from .models import ReportSubmission
from .numbers import format_percent, format_share
from .orders import OrderTable, frozen_order_table
from .selectors import INDICATORS, Report, by_kind, sites_behind
from .table import COLUMNS, groups, text


@dataclass
class Details:
    """What the document says besides the numbers; the manager fills it in when submitting."""

    issuing_body: str
    place: str
    symbol: str
    signer_title: str
    signer_name: str = ""
    parent_body: str = ""
    signer_capacity: str = ""
    recipients: list[str] = field(default_factory=list)
    narrative: str = ""


def _sentence_case(name: str) -> str:
    """ "Tỉnh Sông Xanh" inside a sentence: "tỉnh Sông Xanh"."""
    return name[:1].lower() + name[1:]


def default_details(area) -> Details:
    """What a report of this area usually says: its People's Committee issues it."""
    if area.pk is None:
        body = _("Ministry of Health")
        return Details(issuing_body=body, place="Hà Nội", symbol=_("BC-BYT"), signer_title=_("Minister"))
    parent = area.parent
    place = area.name.removeprefix(area.unit_type).strip() if area.unit_type else area.name
    above = (
        _("People's Committee of %(area)s;") % {"area": _sentence_case(parent.name)}
        if parent
        else _("Ministry of Health;")
    )
    return Details(
        issuing_body=_("People's Committee of %(area)s") % {"area": _sentence_case(area.name)},
        parent_body="",
        place=place,
        symbol=_("BC-UBND"),
        signer_capacity=_("On behalf of the People's Committee"),
        signer_title=_("Chairperson"),
        recipients=[above, _("Archive: office.")],
    )


def details_of(submission: ReportSubmission) -> Details:
    return Details(
        issuing_body=submission.issuing_body,
        parent_body=submission.parent_body,
        place=submission.place,
        symbol=submission.symbol,
        signer_capacity=submission.signer_capacity,
        signer_title=submission.signer_title,
        signer_name=submission.signer_name,
        recipients=[line.strip() for line in submission.recipients.splitlines() if line.strip()],
        narrative=submission.narrative,
    )


def _area_table(report: Report) -> Table:
    columns = [Column(_("No."), 0.8, "center"), Column(_("Area"), 2.6)]
    columns += [Column(str(c.title), 1.3 if c.kind == "change" else 1, "right") for c in COLUMNS]
    table_rows = []
    for number, row in enumerate(report.rows, start=1):
        name = row.area.name if row.area else _("Directly in %(area)s") % {"area": report.area.name}
        table_rows.append([str(number), name] + [text(row, c) for c in COLUMNS])
    table_rows.append(["", _("Total")] + [text(report.total, c) for c in COLUMNS])
    return Table(
        columns=columns,
        rows=table_rows,
        groups=[("", 1), ("", 1), *groups()],
        totals=1,
        caption=_("Table 1. Results by area (sites; shares and targets in %; change in percentage points)"),
    )


def _kind_table(kinds: dict[str, dict[str, int]]) -> Table:
    columns = [Column(_("Kind of place"), 3)]
    for label in (_("Sites counting"), _("Warning sign"), "%", _("Barrier"), "%", _("Protected"), "%"):
        columns.append(Column(label, 1, "right"))
    table_rows, total = [], dict.fromkeys(("counting", *INDICATORS), 0)
    for kind, label in SiteKind.choices:
        counts = kinds.get(kind)
        if not counts:
            continue
        for key in total:
            total[key] += counts[key]
        table_rows.append([str(label), *_kind_cells(counts)])
    table_rows.append([_("Total"), *_kind_cells(total)])
    return Table(columns=columns, rows=table_rows, totals=1, caption=_("Table 2. Results by kind of place"))


def _order_table(orders: OrderTable, area) -> Table:
    columns = [Column(_("No."), 0.8, "center"), Column(_("Area"), 4)]
    columns += [Column(str(title), 1.6, "right") for _key, title in order_columns.COLUMNS]
    table_rows = [
        [str(number), row.name(area)] + [cell.text for cell in row.cells]
        for number, row in enumerate(orders.rows, start=1)
    ]
    table_rows.append(["", _("Total")] + [cell.text for cell in orders.total.cells])
    return Table(
        columns=columns,
        rows=table_rows,
        totals=1,
        caption=_(
            "Table 3. Remediation orders in the period by area (orders; median days from opening to verification)"
        ),
    )


def _kind_cells(counts: dict[str, int]) -> list[str]:
    cells = [format_number(counts["counting"])]
    for indicator in INDICATORS:
        cells += [format_number(counts[indicator]), format_share(share(counts[indicator], counts["counting"]))]
    return cells


def _annex(sites: list[dict], child_names: dict[str, str], area_name: str) -> Annex:
    columns = [
        Column(_("No."), 0.6, "center"),
        Column(_("Code"), 1.3),
        Column(_("Name"), 3),
        Column(_("Kind"), 1.8),
        Column(_("Area"), 2.2),
        Column(_("Warning sign"), 1.6),
        Column(_("Barrier"), 1.6),
        Column(_("Last checked"), 1.3, "center"),
    ]
    table_rows = []
    for number, site in enumerate(sites, start=1):
        checked = site.get("observed_at")
        table_rows.append(
            [
                format_number(number),
                site["code"],
                site["name"],
                str(SiteKind(site["kind"]).label) if site["kind"] in SiteKind.values else site["kind"],
                child_names.get(site["child_code"], area_name),
                str(Signage(site["signage"]).label) if site["signage"] else capfirst(_("never inspected")),
                str(Barrier(site["barrier"]).label) if site["barrier"] else capfirst(_("never inspected")),
                f"{timezone.localtime(checked):%d/%m/%Y}" if checked else "–",
            ]
        )
    return Annex(_("Places at risk of drowning not yet protected"), [Table(columns=columns, rows=table_rows)])


def build(
    report: Report,
    details: Details,
    *,
    kinds: dict[str, dict[str, int]],
    unprotected: list[dict],
    orders: OrderTable | None,
    number: str = "",
    day: dt.date | None = None,
) -> AdministrativeDocument:
    period, area, total = report.period, report.area, report.total
    values = {
        "body": details.issuing_body,
        "area": _sentence_case(area.name),  # inside a sentence: "trên địa bàn huyện Đồi Thông"
        "period": period.label,
        "start": f"{period.start:%d/%m/%Y}",
        "end": f"{period.end:%d/%m/%Y}",
        "counting": format_number(total.counts["counting"]),
        **{name: format_number(days) for name, days in evidence_days().items()},
    }
    for indicator in INDICATORS:
        values[indicator] = format_number(total.counts[indicator])
        values[f"{indicator}_share"] = format_percent(total.share(indicator)) or "–"
        values[f"{indicator}_target"] = format_percent(total.targets[indicator], 1)
        values[f"{indicator}_gap"] = format_number(total.gap(indicator))
    body = [
        Paragraph(
            (
                _(
                    "%(body)s reports the results of putting warning signs and barriers at places with deep water "
                    "where children are at risk of drowning in %(area)s, %(period)s (from %(start)s to %(end)s), as "
                    "follows:"
                )
                if period.named
                else _(
                    "%(body)s reports the results of putting warning signs and barriers at places with deep water "
                    "where children are at risk of drowning in %(area)s from %(start)s to %(end)s, as follows:"
                )
            )
            % values
        ),
        Paragraph(_("I. RESULTS"), "heading"),
        Paragraph(
            _(
                "Places counting toward the target: %(counting)s. With a warning sign in place: %(signed)s "
                "(%(signed_share)s; target %(signed_target)s, %(signed_gap)s still to do). With a complete barrier: "
                "%(fenced)s (%(fenced_share)s; target %(fenced_target)s, %(fenced_gap)s still to do). With both, "
                "protected: %(protected)s (%(protected_share)s; target %(protected_target)s, %(protected_gap)s "
                "still to do)."
            )
            % values
        ),
        _area_table(report),
        _kind_table(kinds),
        # A report submitted before orders were counted in reports has no order numbers frozen.
        *([_order_table(orders, area)] if orders is not None else []),
        Paragraph(
            _(
                "Numbers as of the end of %(end)s, from the inspections recorded in the hazard registry; a state not "
                "re-checked within %(days)s days (%(temporary_days)s for works under construction) is counted as "
                "unverified."
            )
            % values,
            "note",
        ),
        Paragraph(_("II. ASSESSMENT AND PROPOSALS"), "heading"),
    ]
    narrative = [part.strip() for part in details.narrative.split("\n\n") if part.strip()]
    body += [Paragraph(part) for part in narrative] or [Paragraph("…")]
    child_names = {row.area.code: row.area.name for row in report.rows if row.area}
    return AdministrativeDocument(
        parent_body=details.parent_body,
        issuing_body=details.issuing_body,
        kind=_("Report"),
        subject=_("Results of putting warning signs and barriers at places at risk of drowning, %(period)s")
        % {"period": period.label},
        place=details.place,
        day=day or timezone.localdate(),
        number=number,
        symbol=details.symbol,
        body=body,
        recipients=details.recipients,
        signature=Signature(title=details.signer_title, name=details.signer_name, capacity=details.signer_capacity),
        annexes=[_annex(unprotected, child_names, area.name)],
        landscape=True,
        title=_("Progress report %(area)s %(period)s") % {"area": area.name, "period": period.label},
    )


def for_report(report: Report, orders: OrderTable, details: Details | None = None) -> AdministrativeDocument:
    """The document of a report being prepared: numbers as they are computed now."""
    return build(
        report,
        details or default_details(report.area),
        kinds=by_kind(report.area, report.period),
        unprotected=sites_behind(report.area, report.period, "not_protected"),
        orders=orders,
    )


def for_submission(submission: ReportSubmission) -> AdministrativeDocument:
    """The document as submitted: its number, date and frozen numbers and lists."""
    report = submissions.frozen_report(submission)
    children = [row.area for row in report.rows if row.area is not None]
    return build(
        report,
        details_of(submission),
        kinds=submission.numbers["kinds"],
        unprotected=submissions.frozen_sites(submission, "not_protected"),
        orders=frozen_order_table(submission, report.area, children),
        number=str(submission.number),
        day=timezone.localdate(submission.submitted_at),
    )


RENDERERS = {
    "pdf": ("application/pdf", pdf.render),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", word.render),
}


def render(document: AdministrativeDocument, fmt: str) -> bytes:
    """The document as a PDF or DOCX file (a plain function, for a job as for a request)."""
    return RENDERERS[fmt][1](document)
