"""A site's life: when it counts, dated changes of the details that decide where and
whether it counts, closing and reopening, closure proposals from tablets, and merging
duplicates. Service functions like those of services.py: keyword-only, atomic, scope
checked, errors a person can act on.

Rules (README "Progress reports"):
- A site counts from its first observation (`active_from`): registering it, or the
  earliest inspection that reaches the server (device time, corrected for the device's
  clock), whichever is earlier.
- Its area, deep-water flag and temporary flag change from a date (`effective_from`,
  today unless given): days before keep the earlier details (a SiteVersion), so a past
  period does not change when deep water is unticked or the site moves area. A change
  that takes effect on the day the current details started corrects them in place.
- A site closes on a day (it no longer counts from that day) and may reopen on a later
  day (it counts again from then; the days between stay closed).
- An inspection dated on or before a closure is stored and counts where it belongs; one
  dated after the closure (in a closed stretch) is refused with the closure's date.
- A duplicate is merged into the site kept: its inspections and photos move there and
  the duplicate leaves every period as if it had never existed; an administrator can
  undo the merge.
"""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import act_as
from accounts.scope import ADMINISTER, EDIT, SURVEY, scope_for

from . import current_state, services
from .models import CloseReason, ClosureProposal, Inspection, ProposalStatus, Site, SiteMerge, SiteVersion
from .orders import orders_follow_merge, orders_return
from .rules import day_start

# The details whose change moves a site between the counts of reports.
COUNTED_DETAILS = ("area_id", "deep_water", "is_temporary")


def _day(value: dt.date) -> str:
    return f"{value:%d/%m/%Y}"


def counted_details(site: Site) -> dict:
    return {name: getattr(site, name) for name in COUNTED_DETAILS}


def current_start(site: Site) -> dt.date:
    """The day the site's current details took effect."""
    return site.current_since or site.active_from


def open_spans(sites) -> dict:
    """The stretches of days each site was open, by its id, [from, until) oldest first;
    until None: open still. Consecutive versions (a dated change, not a closure) form one
    stretch. One query, whatever the number of sites."""
    versions: dict = {site.pk: [] for site in sites}
    for site_id, start, until in (
        SiteVersion.objects.filter(site__in=list(versions))
        .order_by("site_id", "valid_from")
        .values_list("site_id", "valid_from", "valid_until")
    ):
        versions[site_id].append((start, until))
    return {site.pk: _joined([*versions[site.pk], (current_start(site), site.closed_at)]) for site in sites}


def _joined(spans: list) -> list[tuple[dt.date, dt.date | None]]:
    merged: list[tuple[dt.date, dt.date | None]] = []
    for start, until in spans:
        if merged and merged[-1][1] == start:
            merged[-1] = (merged[-1][0], until)
        else:
            merged.append((start, until))
    return merged


def admit_inspection_day(site: Site, day: dt.date, spans: list) -> None:
    """Refuse an inspection dated after a closure of the site (in a closed stretch; `spans`
    are the site's open_spans). One dated before the site became active is admitted: it is
    an earlier first observation. One on a closing day is admitted: the site was seen that day."""
    if day < spans[0][0]:
        return
    for start, until in spans:
        if start <= day and (until is None or day <= until):
            return
    closed_on = max(until for _start, until in spans if until is not None and until < day)
    reopened = [start for start, _until in spans if start > day]
    values = {"code": site.code, "closed": _day(closed_on), "day": _day(day)}
    if reopened:
        values["reopened"] = _day(reopened[0])
        message = _(
            "Site %(code)s was closed from %(closed)s until it reopened on %(reopened)s; an inspection "
            "dated %(day)s, while it was closed, cannot be stored."
        )
    else:
        message = _(
            "Site %(code)s was closed on %(closed)s; an inspection dated %(day)s, after its closure, cannot be stored."
        )
    raise ValidationError({"inspected_at": message % values})


def _set_starts(days: dict) -> None:
    """Make each day (by site) its site's first counted day: the first stretch of its life
    starts then. The caller saves the sites; one query reads their first versions and one
    writes them, whatever the number of sites."""
    versions = SiteVersion.objects.filter(site__in=list(days)).order_by("site_id", "valid_from")
    firsts = {version.site_id: version for version in versions.distinct("site_id")}
    for site, day in days.items():
        first = firsts.get(site.pk)
        if first is not None:
            if day >= first.valid_until:
                raise ValidationError(
                    {
                        "active_from": _("The site's details changed on %(date)s; it must be active before that.")
                        % {"date": _day(first.valid_until)}
                    }
                )
            first.valid_from = day
        site.active_from = day
    SiteVersion.objects.bulk_update(firsts.values(), ["valid_from"])


def extend_starts(days: dict) -> None:
    """A site is active from its first observation: an observation (its day, by site)
    earlier than a site's active_from moves it back (the caller holds the sites' locks).
    A fixed number of statements for any number of sites."""
    earlier = {site: day for site, day in days.items() if day < site.active_from}
    if not earlier:
        return
    _set_starts(earlier)
    now = timezone.now()
    for site in earlier:
        site.updated_at = now  # written by hand: a bulk update leaves auto_now alone
    Site.all_objects.bulk_update(list(earlier), ["active_from", "updated_at"])


def first_observed(site: Site) -> dt.date | None:
    first = Inspection.all_objects.filter(site=site, deleted_at__isnull=True).order_by("observed_at").first()
    return timezone.localdate(first.observed_at) if first else None


def change_start(site: Site, day: dt.date) -> None:
    """A manager sets the day the site became active (site_update's active_from, which
    refused a day in the future)."""
    observed = first_observed(site)
    if observed is not None and day > observed:
        raise ValidationError(
            {
                "active_from": _("The site was first observed on %(date)s; it cannot become active later.")
                % {"date": _day(observed)}
            }
        )
    if site.closed_at and day > site.closed_at:
        raise ValidationError({"active_from": _("A site cannot become active after it closed.")})
    _set_starts({site: day})


def record_change(site: Site, *, before: dict, effective_from: dt.date | None, actor) -> None:
    """The site's counted details changed from `before` to its current ones: the earlier
    ones keep the days before `effective_from` (a SiteVersion). The caller saves the site."""
    if before == counted_details(site):
        return
    start = current_start(site)
    effective = effective_from or timezone.localdate()
    if effective > timezone.localdate():
        raise ValidationError({"effective_from": _("A change cannot take effect in the future.")})
    if effective < start:
        raise ValidationError(
            {
                "effective_from": _(
                    "The change cannot take effect before %(date)s, when the site's current details took effect."
                )
                % {"date": _day(start)}
            }
        )
    # A closed site no longer counts: what changes after its closure counts from a reopening.
    if site.closed_at and effective > site.closed_at:
        effective = site.closed_at
    if effective == start:
        return  # a correction of the details since they took effect
    SiteVersion.objects.create(site=site, valid_from=start, valid_until=effective, recorded_by=actor, **before)
    site.current_since = effective


def _closing_day(site: Site, closed_at: dt.date | None) -> dt.date:
    closed_at = closed_at or timezone.localdate()
    if closed_at < site.active_from:
        raise ValidationError(
            {
                "closed_at": _("A site cannot close before it became active (%(date)s).")
                % {"date": _day(site.active_from)}
            }
        )
    if closed_at > timezone.localdate():
        raise ValidationError({"closed_at": _("The closing date cannot be in the future.")})
    start = current_start(site)
    if closed_at < start:
        raise ValidationError(
            {
                "closed_at": _("The site's details changed on %(date)s; it can close on that day or later.")
                % {"date": _day(start)}
            }
        )
    last = (
        Inspection.objects.filter(site=site, observed_at__gte=day_start(closed_at + dt.timedelta(days=1)))
        .order_by("-observed_at")
        .first()
    )
    if last is not None:
        raise ValidationError(
            {
                "closed_at": _("The site was inspected on %(date)s, after that day; it can close on %(date)s or later.")
                % {"date": _day(timezone.localdate(last.observed_at))}
            }
        )
    return closed_at


@transaction.atomic
def site_close(
    *,
    actor,
    site: Site,
    reason: str,
    closed_at: dt.date | None = None,
    duplicate_of: Site | None = None,
    note: str = "",
) -> Site:
    """Close a site from a day on. Closing as a duplicate merges it into the site it
    duplicates (site_merge): a duplicate never counted."""
    act_as(actor)
    site = Site.objects.select_for_update().get(pk=site.pk)
    scope = scope_for(actor)
    scope.require_record(EDIT, site)
    services.choice(reason, CloseReason, "close_reason", _("close reason"))
    if reason == CloseReason.DUPLICATE:
        if duplicate_of is None:
            raise ValidationError({"duplicate_of": _("Name the site this one duplicates.")})
        site_merge(actor=actor, duplicate=site, kept=duplicate_of)
        return Site.all_objects.get(pk=site.pk)
    if duplicate_of is not None:
        raise ValidationError({"duplicate_of": _("Only a site closed as a duplicate names another site.")})
    if site.closed_at:
        raise ValidationError(_("This site was already closed on %(date)s.") % {"date": _day(site.closed_at)})
    site.closed_at = _closing_day(site, closed_at)
    site.close_reason, site.close_note = reason, services.clean_text(note, "note", _("note"), lines=True)
    site.save(update_fields=["closed_at", "close_reason", "close_note", "updated_at"])
    return site


@transaction.atomic
def site_reopen(*, actor, site: Site, reopened_on: dt.date | None = None) -> Site:
    """Reopen a closed site: it counts again from `reopened_on` (today unless given); the
    days since its closure stay closed. Reopening on the closing day undoes the closure."""
    act_as(actor)
    site = Site.objects.select_for_update().get(pk=site.pk)
    scope_for(actor).require_record(EDIT, site)
    if not site.closed_at:
        raise ValidationError(_("This site is not closed."))
    reopened_on = reopened_on or timezone.localdate()
    if reopened_on > timezone.localdate():
        raise ValidationError({"reopened_on": _("A site cannot reopen in the future.")})
    if reopened_on < site.closed_at:
        raise ValidationError(
            {
                "reopened_on": _("The site closed on %(date)s; it can reopen on that day or later.")
                % {"date": _day(site.closed_at)}
            }
        )
    if reopened_on > site.closed_at:
        start = current_start(site)
        if start < site.closed_at:
            SiteVersion.objects.create(
                site=site, valid_from=start, valid_until=site.closed_at, recorded_by=actor, **counted_details(site)
            )
        site.current_since = reopened_on
    site.closed_at, site.close_reason, site.close_note, site.duplicate_of = None, "", "", None
    site.save(update_fields=["closed_at", "close_reason", "close_note", "duplicate_of", "current_since", "updated_at"])
    return site


def _locked_pair(first: Site, second: Site) -> tuple[Site, Site]:
    """Both sites locked in one order (by id), whichever way round they are named."""
    locked = {s.pk: s for s in Site.all_objects.select_for_update().filter(pk__in=[first.pk, second.pk]).order_by("pk")}
    return locked[first.pk], locked[second.pk]


@transaction.atomic
def site_merge(*, actor, duplicate: Site, kept: Site) -> SiteMerge:
    """Merge a duplicate into the site kept: inspections and photos move to the kept site
    (and remediation orders, orders_follow_merge), which becomes active from the earlier of
    the two; the duplicate is closed as its
    duplicate and deleted, so it leaves every period. Audited; see merge_undo."""
    act_as(actor)
    if duplicate.pk == kept.pk:
        raise ValidationError({"duplicate_of": _("A site cannot be a duplicate of itself.")})
    duplicate, kept = _locked_pair(duplicate, kept)
    scope = scope_for(actor)
    scope.require_record(EDIT, duplicate)
    scope.require_record(EDIT, kept)
    if duplicate.deleted_at:
        raise ValidationError(_("Site %(code)s was deleted or merged already.") % {"code": duplicate.code})
    if kept.closed_at:
        raise ValidationError(
            {"duplicate_of": _("Site %(code)s is closed; merge the duplicate into an open site.") % {"code": kept.code}}
        )
    moved = list(Inspection.all_objects.filter(site=duplicate).order_by("observed_at"))
    spans = open_spans([kept])[kept.pk]
    for inspection in moved:
        admit_inspection_day(kept, timezone.localdate(inspection.observed_at), spans)
    merge = SiteMerge.objects.create(
        kept=kept,
        duplicate=duplicate,
        merged_by=actor,
        inspections=[i.pk for i in moved],
        kept_active_from=kept.active_from,
        duplicate_closed_at=duplicate.closed_at,
        duplicate_close_reason=duplicate.close_reason,
        duplicate_close_note=duplicate.close_note,
        duplicate_of_before=duplicate.duplicate_of,
    )
    Inspection.all_objects.filter(pk__in=merge.inspections).update(site=kept)
    merge.orders = orders_follow_merge(duplicate=duplicate, kept=kept)
    merge.save(update_fields=["orders"])
    extend_starts({kept: min([duplicate.active_from] + [timezone.localdate(i.observed_at) for i in moved])})
    ClosureProposal.objects.filter(site=duplicate, status=ProposalStatus.PENDING).update(
        status=ProposalStatus.DECLINED,
        decided_at=timezone.now(),
        decided_by=actor,
        decision_note=_("The site was merged into %(code)s.") % {"code": kept.code},
    )
    duplicate.closed_at = duplicate.closed_at or timezone.localdate()
    duplicate.close_reason, duplicate.duplicate_of = CloseReason.DUPLICATE, kept
    duplicate.deleted_at, duplicate.deleted_by = timezone.now(), actor
    duplicate.save(
        update_fields=["closed_at", "close_reason", "duplicate_of", "deleted_at", "deleted_by", "updated_at"]
    )
    current_state.refresh_current_state([kept.pk, duplicate.pk])
    return merge


@transaction.atomic
def merge_undo(*, actor, merge: SiteMerge) -> SiteMerge:
    """Undo a merge (administrators): the inspections moved go back, the duplicate is
    restored as it was, the kept site's first day is what it was before (unless evidence
    still on it is older)."""
    act_as(actor)
    merge = SiteMerge.objects.select_for_update().get(pk=merge.pk)
    scope = scope_for(actor)
    kept, duplicate = _locked_pair(merge.kept, merge.duplicate)
    scope.require(ADMINISTER, kept.area)
    scope.require(ADMINISTER, duplicate.area)
    if merge.reversed_at:
        raise ValidationError(_("This merge was already undone."))
    if kept.deleted_at:
        raise ValidationError(
            _("Site %(code)s, which was kept, has been deleted or merged since; restore it first.")
            % {"code": kept.code}
        )
    Inspection.all_objects.filter(pk__in=merge.inspections, site=kept).update(site=duplicate)
    orders_return(moved=merge.orders, kept=kept, duplicate=duplicate)
    remaining = first_observed(kept)
    start = merge.kept_active_from if remaining is None else min(merge.kept_active_from, remaining)
    if start != kept.active_from:
        _set_starts({kept: start})
        kept.save(update_fields=["active_from", "updated_at"])
    duplicate.closed_at, duplicate.close_reason = merge.duplicate_closed_at, merge.duplicate_close_reason
    duplicate.close_note, duplicate.duplicate_of = merge.duplicate_close_note, merge.duplicate_of_before
    duplicate.deleted_at = duplicate.deleted_by = None
    duplicate.save(
        update_fields=[
            "closed_at", "close_reason", "close_note", "duplicate_of", "deleted_at", "deleted_by", "updated_at"
        ]
    )  # fmt: skip
    current_state.refresh_current_state([kept.pk, duplicate.pk])
    merge.reversed_at, merge.reversed_by = timezone.now(), actor
    merge.save(update_fields=["reversed_at", "reversed_by"])
    return merge


# Closure proposals: field workers see that a site is gone; a manager decides.


@transaction.atomic
def closure_propose(
    *,
    actor,
    site: Site,
    reason: str,
    observed_at: dt.datetime,
    note: str = "",
    proposal_id=None,
    client_fingerprint: str = "",
    clock_offset: dt.timedelta | None = None,
) -> ClosureProposal:
    """A field worker proposes closing a site seen at `observed_at` on the device's clock,
    corrected by its measured offset as an inspection's time is (services.counted_time)."""
    act_as(actor)
    site = Site.objects.select_for_update().get(pk=site.pk)
    scope_for(actor).require_record(SURVEY, site)
    services.choice(reason, CloseReason, "reason", _("close reason"))
    if observed_at is None or timezone.is_naive(observed_at):
        raise ValidationError({"observed_at": _("Give the time the site was seen, with its time zone.")})
    observed_at, _suspect = services.counted_time(observed_at, timezone.now(), clock_offset)
    if site.closed_at:
        raise ValidationError(
            _("Site %(code)s was already closed on %(date)s.") % {"code": site.code, "date": _day(site.closed_at)}
        )
    proposal_args = {"id": proposal_id} if proposal_id else {}
    return ClosureProposal.objects.create(
        **proposal_args,
        site=site,
        reason=reason,
        note=services.clean_text(note, "note", _("note"), lines=True),
        observed_at=observed_at,
        proposed_by=actor,
        client_fingerprint=client_fingerprint,
    )


def _pending(actor, proposal: ClosureProposal) -> ClosureProposal:
    proposal = ClosureProposal.objects.select_for_update().select_related("site").get(pk=proposal.pk)
    scope_for(actor).require_record(EDIT, proposal.site)
    if proposal.status != ProposalStatus.PENDING:
        raise ValidationError(
            _("This proposal was already decided: %(status)s.") % {"status": proposal.get_status_display()}
        )
    return proposal


@transaction.atomic
def closure_confirm(
    *,
    actor,
    proposal: ClosureProposal,
    closed_at: dt.date | None = None,
    duplicate_of: Site | None = None,
    note: str = "",
) -> ClosureProposal:
    """Close the site as proposed, on the day the worker saw it unless the manager gives
    another day; a duplicate needs the site it duplicates."""
    act_as(actor)
    proposal = _pending(actor, proposal)
    site_close(
        actor=actor,
        site=proposal.site,
        reason=proposal.reason,
        closed_at=closed_at or timezone.localdate(proposal.observed_at),
        duplicate_of=duplicate_of,
        note=proposal.note,
    )
    proposal.status, proposal.decided_at, proposal.decided_by = ProposalStatus.CONFIRMED, timezone.now(), actor
    proposal.decision_note = services.clean_text(note, "note", _("note"), lines=True)
    proposal.save(update_fields=["status", "decided_at", "decided_by", "decision_note"])
    return proposal


@transaction.atomic
def closure_decline(*, actor, proposal: ClosureProposal, note: str = "") -> ClosureProposal:
    act_as(actor)
    proposal = _pending(actor, proposal)
    if not (note or "").strip():
        raise ValidationError({"note": _("Say why the site stays open, so the field worker knows.")})
    proposal.status, proposal.decided_at, proposal.decided_by = ProposalStatus.DECLINED, timezone.now(), actor
    proposal.decision_note = services.clean_text(note, "note", _("note"), lines=True)
    proposal.save(update_fields=["status", "decided_at", "decided_by", "decision_note"])
    return proposal


def surviving_sites(sites: dict) -> dict:
    """The site that carries each merged duplicate's evidence now (the site itself
    otherwise), by the same keys as `sites`, with its area: a tablet that inspected the
    duplicate before the merge still has its record stored. One query per step along the
    longest chain of merges, whatever the number of sites."""
    surviving, seen = dict(sites), {key: set() for key in sites}
    while following := {
        key: site
        for key, site in surviving.items()
        if site.deleted_at and site.duplicate_of_id and site.pk not in seen[key]
    }:
        kept = Site.all_objects.select_related("area").in_bulk({site.duplicate_of_id for site in following.values()})
        for key, site in following.items():
            seen[key].add(site.pk)
            surviving[key] = kept[site.duplicate_of_id]
    return surviving
