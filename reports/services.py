"""Every write of the reports: setting a target (a new one from a day; a target in force
is never edited, so a past report keeps the target of its time), submitting a period's
report (its numbers and the sites behind them frozen) and deciding a submission.
Keyword-only, atomic, scope checked, errors a person can act on."""

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import act_as
from accounts.scope import MANAGE, OutOfScope, scope_for
from areas.models import Area
from common.text import clean_text

from .models import Indicator, ReportSubmission, SubmissionStatus, Target
from .orders import frozen_orders
from .periods import Period
from .selectors import COUNT_COLUMNS, as_of_params, by_child, grouped, sites_as_of_sql, targets_in_force


def _day(value: dt.date) -> str:
    return f"{value:%d/%m/%Y}"


@transaction.atomic
def target_set(
    *,
    actor,
    area: Area,
    indicator: str,
    value,
    deadline: dt.date,
    valid_from: dt.date | None = None,
) -> Target:
    """A target for an area from `valid_from` (today unless given) to its deadline. The
    target of the same area and indicator in force on that day ends the day before; one
    set to start later is left alone and must be removed first."""
    act_as(actor)
    scope_for(actor).require(MANAGE, area)
    if indicator not in Indicator.values:
        raise ValidationError(
            {"indicator": _("Choose one of: %(choices)s.") % {"choices": ", ".join(Indicator.values)}}
        )
    try:
        value = Decimal(str(value)).quantize(Decimal("0.1"))
    except InvalidOperation:
        raise ValidationError({"value": _("The target is a percentage between 0 and 100.")}) from None
    if not Decimal(0) <= value <= Decimal(100):
        raise ValidationError({"value": _("The target is a percentage between 0 and 100.")})
    valid_from = valid_from or timezone.localdate()
    if deadline < valid_from:
        raise ValidationError({"deadline": _("The deadline is before the day the target takes effect.")})
    same = Target.objects.select_for_update().filter(area=area, indicator=indicator)
    later = same.filter(valid_from__gte=valid_from, valid_from__lte=deadline).first()
    if later is not None:
        raise ValidationError(
            {
                "valid_from": _(
                    "A target of %(value)s%% is set from %(date)s; remove it first, or let this one end before it."
                )
                % {"value": later.value, "date": _day(later.valid_from)}
            }
        )
    for current in same.filter(valid_from__lt=valid_from, valid_until__gte=valid_from):
        current.valid_until = valid_from - dt.timedelta(days=1)
        current.save(update_fields=["valid_until", "updated_at"])
    return Target.objects.create(
        area=area,
        indicator=indicator,
        value=value,
        deadline=deadline,
        valid_from=valid_from,
        valid_until=deadline,
        created_by=actor,
    )


@transaction.atomic
def target_remove(*, actor, target: Target) -> None:
    """Remove a target that has not taken effect yet; one in force or past stays in the
    history (set another one from a day instead)."""
    act_as(actor)
    scope_for(actor).require(MANAGE, target.area)
    if target.valid_from <= timezone.localdate():
        raise ValidationError(
            _("This target has been in force since %(date)s; set another one from a day instead.")
            % {"date": _day(target.valid_from)}
        )
    target.delete()


# Submissions -------------------------------------------------------------------------

FREEZE_SITES = """
INSERT INTO reports_submittedsite (
    submission_id, site_id, child_code, kind, signage, barrier, state, observed_at, inspected, with_photo, unverified)
SELECT %(submission)s, id, child_code, kind, coalesce(signage, ''), coalesce(barrier, ''), state, observed_at,
       inspected, with_photo, unverified
FROM ({sites}) site
"""
FROZEN_BY_CHILD = f"""
SELECT child_code, {COUNT_COLUMNS} FROM reports_submittedsite WHERE submission_id = %(submission)s GROUP BY child_code
"""  # noqa: S608  (built from constants)
FROZEN_BY_KIND = f"""
SELECT kind, {COUNT_COLUMNS} FROM reports_submittedsite WHERE submission_id = %(submission)s GROUP BY kind
"""  # noqa: S608  (built from constants)


def _may_submit(actor, area) -> None:
    scope_for(actor).require_area_or_country(MANAGE, area)


def frozen_numbers(submission: ReportSubmission, area, period: Period) -> dict:
    """The submitted numbers: counts per child area and per kind from the frozen sites,
    the previous period's counts and the targets in force on the period's last day."""
    children = list(area.children.all())
    targets = targets_in_force([area, *children], period.as_of)
    return {
        "rows": grouped(FROZEN_BY_CHILD, {"submission": submission.pk}),
        "previous": by_child(area, period.previous()),
        "kinds": grouped(FROZEN_BY_KIND, {"submission": submission.pk}),
        "children": {child.code: child.name for child in children},
        # Per area (its code; "" for the report's own area): indicator -> target or None.
        "targets": {
            ("" if a.pk == area.pk else a.code): {
                ind: (None if t is None else {"id": t.pk, "value": str(t.value), "deadline": t.deadline.isoformat()})
                for ind, t in per.items()
            }
            for a, per in zip([area, *children], targets.values(), strict=True)
        },
    }


# The submitted document's texts of several lines (tabs and line breaks kept).
MULTILINE = ("recipients", "narrative")


@transaction.atomic
def report_submit(
    *,
    actor,
    area,
    period: Period,
    symbol: str,
    issuing_body: str,
    place: str,
    signer_title: str,
    signer_name: str,
    parent_body: str = "",
    signer_capacity: str = "",
    recipients: str = "",
    narrative: str = "",
) -> ReportSubmission:
    """Submit the area's report for a period that has ended: its numbers and the list of
    sites (or remediation orders) behind every number are frozen as of the period's end, with the next number of
    the area's reports this year. Later evidence never changes it (submissions.changes)."""
    act_as(actor)
    _may_submit(actor, area)
    if period.end >= timezone.localdate():
        raise ValidationError(
            {
                "period": _("The period ends on %(date)s; submit its report once it has ended.")
                % {"date": _day(period.end)}
            }
        )
    required = {"symbol": symbol, "issuing_body": issuing_body, "place": place}
    required |= {"signer_title": signer_title, "signer_name": signer_name}
    missing = {name: _("This field is required.") for name, text in required.items() if not (text or "").strip()}
    if missing:
        raise ValidationError(missing)
    texts = {
        name: clean_text(value, name, ReportSubmission._meta.get_field(name).verbose_name, lines=name in MULTILINE)
        for name, value in {
            "symbol": symbol, "issuing_body": issuing_body, "parent_body": parent_body, "place": place,
            "signer_capacity": signer_capacity, "signer_title": signer_title, "signer_name": signer_name,
            "recipients": recipients, "narrative": narrative,
        }.items()
    }  # fmt: skip
    area_id = area.pk
    if area_id is not None:
        Area.objects.select_for_update().get(pk=area_id)  # one submission at a time per area: its numbering
    else:
        # The country has no row to lock; a transaction-wide advisory lock serves.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('reports: national submission'))")
    existing = (
        ReportSubmission.objects.filter(area_id=area_id, period_start=period.start, period_end=period.end)
        .exclude(status=SubmissionStatus.RETURNED)
        .first()
    )
    if existing is not None:
        raise ValidationError(
            _(
                "This report was already submitted as no. %(number)s on %(date)s; the area above must return it "
                "before it can be submitted again."
            )
            % {"number": str(existing), "date": _day(timezone.localdate(existing.submitted_at))}
        )
    now = timezone.now()
    last = ReportSubmission.objects.filter(area_id=area_id, submitted_at__year=timezone.localdate(now).year).aggregate(
        n=Max("number")
    )["n"]
    submission = ReportSubmission.objects.create(
        area_id=area_id,
        period_kind=period.kind,
        period_start=period.start,
        period_end=period.end,
        number=(last or 0) + 1,
        submitted_at=now,
        submitted_by=actor,
        numbers={},
        **texts,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            FREEZE_SITES.format(sites=sites_as_of_sql()), {**as_of_params(area, period), "submission": submission.pk}
        )
    submission.numbers = {**frozen_numbers(submission, area, period), "orders": frozen_orders(area, period, actor)}
    submission.save(update_fields=["numbers"])
    return submission


def may_decide(actor, submission: ReportSubmission) -> bool:
    """A manager of an area above the submitting one, other than the person who submitted it."""
    return submission.submitted_by_id != actor.pk and _above(actor, submission)


def _above(actor, submission: ReportSubmission) -> bool:
    """A manager of an area above the submitting one (national administrators above a
    province or the whole country)."""
    area = submission.area
    return scope_for(actor).allows_area_or_country(MANAGE, area and area.parent)


@transaction.atomic
def report_decide(*, actor, submission: ReportSubmission, approve: bool, note: str = "") -> ReportSubmission:
    """Approve a submitted report, or return it (saying why) so that it can be corrected
    and submitted again."""
    act_as(actor)
    submission = (
        ReportSubmission.objects.select_for_update(of=("self",)).select_related("area__parent").get(pk=submission.pk)
    )
    if not _above(actor, submission):
        raise OutOfScope
    if submission.submitted_by_id == actor.pk:
        raise ValidationError(_("You submitted this report: another manager of the area above approves or returns it."))
    if submission.status != SubmissionStatus.SUBMITTED:
        raise ValidationError(
            _("This report was already decided: %(status)s.") % {"status": submission.get_status_display()}
        )
    note = clean_text(note, "note", ReportSubmission._meta.get_field("decision_note").verbose_name, lines=True)
    if not approve and not note:
        raise ValidationError({"note": _("Say what is to be corrected.")})
    submission.status = SubmissionStatus.APPROVED if approve else SubmissionStatus.RETURNED
    submission.decided_at, submission.decided_by, submission.decision_note = timezone.now(), actor, note
    submission.save(update_fields=["status", "decided_at", "decided_by", "decision_note"])
    return submission
