"""Reading submitted reports: the report as submitted (numbers and sites frozen), and
what recomputing the period now changes, cell by cell, with the late records behind it.

Only sites touched since the submission can count differently: a site's state on a past
day depends on its own row, its versions, its inspections and their photos, and every
change to those leaves a trace with its time (the audit trail, a photo's arrival, an
import's entry). So the comparison recomputes those sites alone, not the whole period,
and takes a moment even for the whole country."""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from accounts.models import AuditEntry
from areas.models import Area
from hazards import selectors
from hazards.models import Barrier, CloseReason, Signage
from hazards.rules import FENCED_STATES, SIGNED_STATES, SiteState, day_start

from .models import ReportSubmission, SubmittedSite, Target
from .periods import Period
from .selectors import COUNTS, DEFAULT_TARGET, INDICATORS, Country, Report, Row, as_of_params, sites_as_of_sql
from .selectors import targets_in_force as targets_now
from .table import COLUMNS, value

# A change committed just before the submission may carry an earlier time than the
# submission's own: look a little further back (a site looked at needlessly costs nothing).
LOOK_BACK = dt.timedelta(minutes=10)
TOTAL = "*"  # the cells of the total row

# Which lists a site belongs to, from its state as of the period's end.
MEMBERSHIP = {
    "counting": lambda r: True,
    "signed": lambda r: r["state"] in SIGNED_STATES,
    "fenced": lambda r: r["state"] in FENCED_STATES,
    "protected": lambda r: r["state"] == SiteState.PROTECTED,
    "not_protected": lambda r: r["state"] != SiteState.PROTECTED,
    "inspected": lambda r: r["inspected"],
    "with_photo": lambda r: r["with_photo"],
    "unverified": lambda r: r["unverified"],
}


def area_of(submission: ReportSubmission):
    return submission.area if submission.area_id else Country()


def _row(area, counts: dict, targets: dict, previous: dict) -> Row:
    empty = dict.fromkeys(COUNTS, 0)
    return Row(area=area, counts={**empty, **counts}, targets=targets, previous={**empty, **previous})


def _target_values(frozen: dict | None) -> dict[str, Decimal]:
    frozen = frozen or {}
    return {ind: Decimal(frozen[ind]["value"]) if frozen.get(ind) else DEFAULT_TARGET for ind in INDICATORS}


def frozen_report(submission: ReportSubmission) -> Report:
    """The report exactly as submitted."""
    area, numbers = area_of(submission), submission.numbers
    areas = {a.code: a for a in Area.objects.filter(code__in=numbers["children"])}
    rows = []
    for code in sorted(set(numbers["rows"]) | set(numbers["children"])):
        child = areas.get(code) or (Area(code=code, name=numbers["children"][code]) if code else None)
        targets = numbers["targets"].get(code) if code else numbers["targets"][""]
        rows.append(
            _row(child, numbers["rows"].get(code, {}), _target_values(targets), numbers["previous"].get(code, {}))
        )
    total = _row(
        area,
        {k: sum(r.counts[k] for r in rows) for k in COUNTS},
        _target_values(numbers["targets"][""]),
        {k: sum(r.previous[k] for r in rows) for k in COUNTS},
    )
    return Report(area=area, period=submission.period, total=total, rows=rows)


def frozen_sites(submission: ReportSubmission, indicator: str, child_code: str | None = None) -> list[dict]:
    """The sites behind a number of the submitted report, as submitted."""
    test = MEMBERSHIP[indicator]
    frozen = SubmittedSite.objects.filter(submission=submission)
    if child_code is not None:
        frozen = frozen.filter(child_code=child_code)
    rows = [r for r in frozen.values() if test(r)]
    names = {
        pk: (code, name)
        for pk, code, name in selectors.named_sites([r["site_id"] for r in rows]).values_list("pk", "code", "name")
    }
    for r in rows:
        r["id"] = r["site_id"]
        r["code"], r["name"] = names.get(r["site_id"], ("", ""))
    return sorted(rows, key=lambda r: r["code"])


def _since_by_audit_clock(submission: ReportSubmission) -> dt.datetime:
    """The look-back's start by the audit trail's clock (the database's)."""
    return submission.recorded_at - LOOK_BACK


def _since_by_app_clock(submission: ReportSubmission) -> dt.datetime:
    """The same by the application's, which dates photos and targets."""
    return submission.submitted_at - LOOK_BACK


def touched_since(submission: ReportSubmission) -> set:
    """Sites whose counting may have changed since the submission."""
    since = _since_by_audit_clock(submission)
    ids = set(
        AuditEntry.objects.filter(at__gte=since, site_id__isnull=False).values_list("site_id", flat=True).distinct()
    )
    photos = selectors.photos_added_since(_since_by_app_clock(submission))
    ids |= set(photos.values_list("inspection__site_id", flat=True))
    imports = AuditEntry.objects.filter(at__gte=since, site_id__isnull=True, table="hazards_site").values("pk")
    if imports.exists():
        ids |= set(selectors.imported_sites(imports).values_list("pk", flat=True))
    return ids


def _current_rows(area, period: Period, ids: list) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(sites_as_of_sql(only_ids=True), {**as_of_params(area, period), "ids": ids})
        names = [c.name for c in cursor.description]
        return {row[0]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}


def _cells(row: dict | None) -> set[tuple[str, str]]:
    if row is None:
        return set()
    return {(place, key) for key, test in MEMBERSHIP.items() if test(row) for place in (row["child_code"], TOTAL)}


@dataclass
class ChangedSite:
    site_id: object
    code: str
    name: str
    entered: list[str] = field(default_factory=list)  # "child:key" cells it now counts in
    left: list[str] = field(default_factory=list)
    records: list[tuple[dt.datetime, str]] = field(default_factory=list)


@dataclass
class Changes:
    """What recomputing the period now changes: per cell ("child code" or "*" for the
    total, column key) the number as submitted and now, and the sites behind it."""

    now: Report
    cells: dict[tuple[str, str], tuple[object, object]]
    sites: list[ChangedSite]
    targets: list[Target]

    def changed(self, place: str, key: str) -> bool:
        return (place, key) in self.cells


def changes(submission: ReportSubmission) -> Changes:
    """Recompute the submitted period for the sites touched since the submission."""
    area, period = area_of(submission), submission.period
    submitted = frozen_report(submission)
    ids = list(touched_since(submission))
    frozen = {r["site_id"]: r for r in SubmittedSite.objects.filter(submission=submission, site_id__in=ids).values()}
    current = _current_rows(area, period, ids) if ids else {}
    delta: dict[tuple[str, str], int] = {}
    moved: dict = {}
    for site_id in ids:
        before, after = _cells(frozen.get(site_id)), _cells(current.get(site_id))
        if before == after:
            continue
        for cell in after - before:
            delta[cell] = delta.get(cell, 0) + 1
        for cell in before - after:
            delta[cell] = delta.get(cell, 0) - 1
        moved[site_id] = (sorted(after - before), sorted(before - after))
    now = _recount(submitted, delta, area, period)
    cells = {}
    for place, before_row, now_row in _row_pairs(submitted, now):
        for column in COLUMNS:
            before_value, now_value = value(before_row, column), value(now_row, column)
            if before_value != now_value:
                cells[(place, column.key)] = (before_value, now_value)
    sites = _describe(moved, submission)
    return Changes(now=now, cells=cells, sites=sites, targets=_target_changes(submission, area, period))


def _row_pairs(before: Report, now: Report):
    for b, n in zip(before.rows, now.rows, strict=True):
        yield (b.area.code if b.area else ""), b, n
    yield TOTAL, before.total, now.total


def _recount(submitted: Report, delta: dict, area, period: Period) -> Report:
    """The submitted report with each cell moved by the sites that entered or left it,
    and the targets in force now for the period's last day."""
    children = [r.area for r in submitted.rows if r.area is not None and r.area.pk]
    in_force = targets_now([area, *children], period.as_of)

    def values(pk) -> dict[str, Decimal]:
        return {ind: target.value if target else DEFAULT_TARGET for ind, target in in_force[pk].items()}

    def moved(row: Row, place: str) -> Row:
        counts = {k: row.counts[k] + delta.get((place, k), 0) for k in COUNTS}
        targets = values(row.area.pk if row.area is not None and row.area.pk else area.pk)
        return Row(area=row.area, counts=counts, targets=targets, previous=row.previous)

    rows = [moved(r, r.area.code if r.area else "") for r in submitted.rows]
    return Report(area=area, period=period, total=moved(submitted.total, TOTAL), rows=rows)


def _target_changes(submission: ReportSubmission, area, period: Period) -> list[Target]:
    """Targets set since the submission that are in force on the period's last day. The
    look-back finds one committed just after the submission's numbers were read; the targets
    those numbers used are not new, however close to the submission they were set."""
    used = {t["id"] for per_row in submission.numbers["targets"].values() for t in per_row.values() if t}
    return list(
        Target.objects.filter(
            created_at__gte=_since_by_app_clock(submission),
            valid_from__lte=period.as_of,
            valid_until__gte=period.as_of,
            area__path__in=_paths(area),
        )
        .exclude(pk__in=used)
        .select_related("area", "created_by")
    )


def _paths(area) -> list[str]:
    """The area's own path, its ancestors' and its children's: whose targets reach its rows."""
    parts = [p for p in area.path.strip("/").split("/") if p]
    paths = ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]
    return paths + [child.path for child in area.children.all()]


def _describe(moved: dict, submission: ReportSubmission) -> list[ChangedSite]:
    """Each site whose counting changed, with the records since the submission that
    changed it: inspections dated in the period that arrived late, closures, merges,
    deletions, dated changes, photos. (Records from just before the submission are
    shown only for a site that has none after it.)"""
    sites = {s.pk: s for s in selectors.named_sites(moved)}
    names = submission.numbers["children"]
    result = {}
    for site_id, (entered, left) in moved.items():
        site = sites.get(site_id)
        result[site_id] = ChangedSite(
            site_id=site_id,
            code=site.code if site else "",
            name=site.name if site else "",
            entered=[_cell_label(place, key, names) for place, key in entered if place != TOTAL],
            left=[_cell_label(place, key, names) for place, key in left if place != TOTAL],
        )
    end = day_start(submission.period_end + dt.timedelta(days=1))
    # Each record as (when, what, whether after the submission by its own clock).
    records: dict = {site_id: [] for site_id in moved}
    entries = AuditEntry.objects.filter(at__gte=_since_by_audit_clock(submission), site_id__in=list(moved))
    for entry in entries.order_by("at").select_related("actor"):
        if entry.table == "hazards_inspection" and entry.action == "insert" and not _observed_before(entry, end):
            continue  # dated after the period: it changes nothing in it
        text = describe_entry(entry)
        if text:
            records[entry.site_id].append((entry.at, text, entry.at >= submission.recorded_at))
    photos = selectors.photos_added_since(_since_by_app_clock(submission), list(moved))
    for photo in photos.select_related("inspection"):
        day = timezone.localdate(photo.inspection.observed_at)
        text = _("Photo added to the inspection of %(day)s") % {"day": f"{day:%d/%m/%Y}"}
        records[photo.inspection.site_id].append((photo.created_at, text, photo.created_at >= submission.submitted_at))
    for site_id, found in records.items():
        after = [record for record in found if record[2]]
        result[site_id].records = [(at, text) for at, text, _after in sorted(after or found, key=lambda r: r[0])]
    return sorted(result.values(), key=lambda s: s.code)


def _observed_before(entry: AuditEntry, end: dt.datetime) -> bool:
    observed = entry.changes.get("observed_at", [None, None])[1]
    moment = parse_datetime(observed) if isinstance(observed, str) else None
    return moment is None or moment < end


def _cell_label(place: str, key: str, names: dict[str, str]) -> str:
    """ "Xã Suối Bạc: Complete barrier": the row and the list a site entered or left."""
    column = next((c for c in COLUMNS if c.key == key), None)
    title = column.group or column.title if column else key
    return f"{names.get(place, place) or _('Directly in the area')}: {title}"


# Columns of a site that only follow its inspections (the current state): not a change of its own.
DERIVED = {"signage", "barrier", "last_checked_at", "photo_evidence", "updated_at"}


def _when(value) -> str:
    moment = parse_datetime(value) if isinstance(value, str) else None
    if moment is None:
        return str(value or "")
    return f"{timezone.localtime(moment):%d/%m/%Y}"


def _date(value) -> str:
    if not value:
        return "–"
    return dt.date.fromisoformat(value[:10]).strftime("%d/%m/%Y")


def describe_entry(entry: AuditEntry) -> str:
    """One audit entry of a site or its inspection, in words; "" for one that says nothing
    about counting."""
    changes, who = entry.changes, entry.actor.username if entry.actor else _("the system")
    if entry.table == "hazards_inspection":
        if entry.action == "insert":
            observed = changes.get("observed_at", [None, None])[1]
            received = changes.get("received_at", [None, None])[1]
            signage = changes.get("signage", [None, ""])[1]
            barrier = changes.get("barrier", [None, ""])[1]
            return _("Inspection of %(day)s arrived on %(arrived)s (%(who)s): %(signage)s, %(barrier)s") % {
                "day": _when(observed),
                "arrived": _when(received),
                "who": who,
                "signage": Signage(signage).label if signage in Signage.values else signage,
                "barrier": Barrier(barrier).label if barrier in Barrier.values else barrier,
            }
        if "site_id" in changes:
            return _("Inspection moved here from a duplicate merged into this site (%(who)s)") % {"who": who}
        if "deleted_at" in changes:
            if changes["deleted_at"][1]:
                return _("Inspection deleted (%(who)s)") % {"who": who}
            return _("Inspection restored (%(who)s)") % {"who": who}
        return ""
    if entry.action == "insert":
        return _("Site registered, active from %(day)s (%(who)s)") % {
            "day": _date(changes.get("active_from", [None, None])[1]),
            "who": who,
        }
    words = []
    if "closed_at" in changes:
        before, after = changes["closed_at"]
        if after:
            reason = changes.get("close_reason", [None, ""])[1]
            label = CloseReason(reason).label if reason in CloseReason.values else reason
            words.append(_("closed on %(day)s (%(reason)s)") % {"day": _date(after), "reason": label})
        else:
            words.append(_("reopened (closed on %(day)s before)") % {"day": _date(before)})
    if "deleted_at" in changes:
        if changes["deleted_at"][1]:
            merged = "duplicate_of_id" in changes and changes["duplicate_of_id"][1]
            words.append(_("merged into another site as a duplicate") if merged else _("deleted"))
        else:
            words.append(_("restored"))
    if "deep_water" in changes:
        words.append(_("deep water: yes") if changes["deep_water"][1] else _("deep water: no"))
    if "area_id" in changes:
        words.append(_("moved to another area"))
    if "is_temporary" in changes:
        words.append(_("temporary: yes") if changes["is_temporary"][1] else _("temporary: no"))
    if "current_since" in changes and changes["current_since"][1]:
        words.append(_("from %(day)s") % {"day": _date(changes["current_since"][1])})
    if "active_from" in changes:
        words.append(_("active from %(day)s") % {"day": _date(changes["active_from"][1])})
    if not words or set(changes) <= DERIVED:
        return ""
    return _("Site %(what)s (%(who)s)") % {"what": ", ".join(words), "who": who}
