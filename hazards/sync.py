"""Receiving records from tablets that may have been offline for hours.

Records carry the UUIDs the tablet gave them. The same record sent again gets the same
answer and creates nothing, also when both copies arrive at once; a different record
under a stored UUID gets 409 and the stored one is left alone. Each record is stored or
refused on its own, with a reason in the worker's language that says what to fix.

The tablet states its clock when it sends (X-Device-Time): the difference to the
server's clock is the device's offset, applied to the times of what it sends
(services.counted_time)."""

import dataclasses
import datetime as dt
import hashlib
import json
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from rest_framework import serializers

from accounts.scope import SURVEY, OutOfScope, scope_for
from common.errors import error_body, field_errors, messages
from common.numbers import format_number

from . import lifecycle, selectors, services
from .models import ClosureProposal, Inspection, Photo, Site
from .photos import content_hash
from .serializers import ClosureProposalIn, InspectionIn, SiteIn

# The most records of each type one batch may hold.
BATCH_LIMIT = 1000


@dataclass
class Outcome:
    status: int
    body: dict
    replay: bool = False


def fingerprint(record: dict) -> str:
    canonical = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    # surrogatepass: a lone surrogate in a key no field reads is still hashed, not a 500.
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def clock_offset(device_time: str | None, received_at: dt.datetime) -> dt.timedelta | None:
    """The server's clock minus the device's, from the device's statement of its clock
    when it sent the request; None when it made none. ValidationError when the statement
    is not a time with its zone."""
    if not device_time:
        return None
    try:
        stated = parse_datetime(device_time.strip())
    except ValueError:
        stated = None
    if stated is None or timezone.is_naive(stated):
        raise ValidationError(
            _(
                "The tablet's clock (header X-Device-Time) must be a date and time with its time zone, "
                "e.g. 2026-05-01T08:30:00+07:00. Update the app; nothing was stored."
            )
        )
    return received_at - stated


def invalid(errors) -> Outcome:
    """A refused record: `detail` is the whole reason to show, `errors` the same by field."""
    if isinstance(errors, ValidationError):
        errors = field_errors(errors)
    detail = _("The record was refused: %(reasons)s") % {"reasons": " ".join(messages(errors))}
    return Outcome(400, error_body("invalid", detail, errors))


def not_a_record() -> Outcome:
    return invalid({"non_field_errors": [_("A record must be a JSON object; this one is not. Update the app.")]})


def _id_taken(record_id, detail) -> Outcome:
    """409: another record is stored under this one's id."""
    return Outcome(409, error_body("id_conflict", detail, id=str(record_id)))


def _conflict(record_id, *, site: bool) -> Outcome:
    if site:
        detail = _(
            "Another site was already stored under this record's id; it was kept and this record was not stored. "
            "Keep the record on the tablet and show it to your area manager."
        )
    else:
        detail = _(
            "Another inspection was already stored under this record's id; it was kept and this record was not "
            "stored. Keep the record on the tablet and show it to your area manager."
        )
    return _id_taken(record_id, detail)


def _gone(*, site: bool) -> Outcome:
    if site:
        detail = _("A manager deleted this site, so it takes nothing more. Discard the record, or ask your manager.")
    else:
        detail = _("A manager deleted this inspection; it cannot be sent again. Discard the record.")
    return Outcome(410, error_body("deleted", detail))


def not_in_areas(*, site: bool) -> str:
    """What a worker reads of a site (or an inspection) outside their areas, which the API
    answers as not found: what to do about it. Said alike of one that does not exist."""
    if site:
        return _(
            "This site is not in the areas you work in. Check that you are signed in as yourself, "
            "or ask your manager to give you its area."
        )
    return _(
        "This inspection is not in the areas you work in. Check that you are signed in as yourself, "
        "or ask your manager to give you its area."
    )


def _not_found(*, site: bool) -> Outcome:
    return Outcome(404, error_body("not_found", not_in_areas(site=site)))


def site_body(site: Site, inspection_id) -> dict:
    return {
        "id": str(site.pk),
        "code": site.code,
        "area": {"code": site.area.code, "name": site.area.name},
        "inspection": str(inspection_id) if inspection_id else None,
    }


def inspection_body(inspection: Inspection) -> dict:
    return {
        "id": str(inspection.pk),
        "site": str(inspection.site_id),
        "clock_suspect": inspection.clock_suspect,
        "counted_at": timezone.localtime(inspection.observed_at).isoformat(),
    }


def _draft(kind, data: dict, **given):
    """A services draft (SiteDraft, InspectionDraft) of a record as read: the values
    named alike, and `given`."""
    names = {field.name for field in dataclasses.fields(kind)}
    return kind(**{name: value for name, value in data.items() if name in names}, **given)


def _inspection_draft(data: dict, site_id, clock_offset, stamp: str = "") -> services.InspectionDraft:
    return _draft(
        services.InspectionDraft,
        data,
        site_id=site_id,
        inspection_id=data["id"],
        clock_offset=clock_offset,
        client_fingerprint=stamp,
    )


def _stored_site(actor, existing: Site, data: dict, stamp: str) -> Outcome:
    """The answer for a site whose id is already stored: the same record again is a
    replay, another is a conflict."""
    if not scope_for(actor).allows(SURVEY, existing.area):
        return _not_found(site=True)
    replay = existing.client_fingerprint == stamp
    # A site merged into another as a duplicate was stored: its replay is answered.
    if existing.deleted_at and not (replay and existing.duplicate_of_id):
        return _gone(site=True)
    if replay:
        nested = data.get("inspection")
        return Outcome(201, site_body(existing, nested and nested["id"]), replay=True)
    return _conflict(data["id"], site=True)


def _stored_inspection(actor, existing: Inspection, data: dict, stamp: str) -> Outcome:
    """As _stored_site, for an inspection."""
    if not scope_for(actor).allows(SURVEY, existing.site.area):
        return _not_found(site=False)
    if existing.deleted_at or existing.site.deleted_at:
        return _gone(site=False)
    if existing.client_fingerprint == stamp:
        return Outcome(201, inspection_body(existing), replay=True)
    return _conflict(data["id"], site=False)


@dataclass(eq=False)
class Received:
    """One record of a request on its way: read, then stored or refused."""

    type: str  # "site" or "inspection"
    index: int  # its place in its list
    record: object  # as sent
    data: dict | None = None  # as read, when it could be
    stamp: str = ""
    outcome: Outcome | None = None

    def read(self, reader: serializers.Serializer) -> None:
        """Reads the record with `reader` (a SiteIn or InspectionIn serving every record of
        its type: made per record, DRF copies every field, which took most of a batch's time)."""
        if not isinstance(self.record, dict):
            self.outcome = not_a_record()
            return
        try:
            self.data = reader.run_validation(self.record)
        except serializers.ValidationError as exc:
            self.outcome = invalid(exc.detail)
            return
        if self.type == "inspection" and "site" not in self.data:
            self.outcome = invalid({"site": [_("Name the site that was inspected (its id). Update the app.")]})
            self.data = None
        else:
            self.stamp = fingerprint(self.record)

    @property
    def nested(self) -> dict | None:
        """A site's first inspection."""
        return self.data.get("inspection") if self.type == "site" else None

    def result(self) -> dict:
        """Its outcome as a batch answers it."""
        sent_id = self.record.get("id") if isinstance(self.record, dict) else None
        return {
            "id": sent_id if isinstance(sent_id, str) else None,
            "type": self.type,
            "index": self.index,
            "status": self.outcome.status,
            "replay": self.outcome.replay,
            "body": self.outcome.body,
        }


class Refused(Exception):
    """A record refused after some of the request was written: the transaction is undone
    and the records are taken again one by one."""

    def __init__(self, item: Received, outcome: Outcome):
        super().__init__(outcome.body.get("detail"))
        self.item, self.outcome = item, outcome


def receive(*, actor, sites: list, inspections: list, clock_offset: dt.timedelta | None = None) -> list[Received]:
    """Stores or refuses each record; sites first, so an inspection may name a site sent
    with it. Set-based: whatever the number of records, a few statements check and write
    them all (services.sites_register, services.inspections_record)."""
    items = [Received("site", i, r) for i, r in enumerate(sites)]
    items += [Received("inspection", i, r) for i, r in enumerate(inspections)]
    readers = {"site": SiteIn(), "inspection": InspectionIn()}
    for item in items:
        item.read(readers[item.type])
    _store_all(actor, [item for item in items if item.outcome is None], clock_offset, again=True)
    return items


def _store_all(actor, items: list[Received], clock_offset, *, again: bool) -> None:
    """Stores the items in one transaction. A unique key's clash means a record was stored
    meanwhile by a request that arrived at the same moment (the key's check waited for
    it): the items are then taken again, each alone, and find it stored."""
    if not items:
        return
    try:
        with transaction.atomic():
            outcomes = _store(actor, items, clock_offset)
    except (IntegrityError, Refused) as exc:
        if len(items) > 1:
            for item in items:
                _store_all(actor, [item], clock_offset, again=True)
        elif isinstance(exc, Refused):
            items[0].outcome = exc.outcome
        elif again:
            _store_all(actor, items, clock_offset, again=False)
        else:
            items[0].outcome = _conflict(items[0].data["id"], site=items[0].type == "site")
        return
    for item, outcome in outcomes.items():
        item.outcome = outcome


def _store(actor, items: list[Received], clock_offset) -> dict[Received, Outcome]:
    """The outcome of each item: records already stored are answered from what is stored,
    new ones are written. Raises IntegrityError or Refused (see _store_all)."""
    outcomes: dict[Received, Outcome] = {}
    stored_sites = selectors.stored_sites([item.data["id"] for item in items if item.type == "site"])
    stored_inspections = selectors.stored_inspections(
        [item.data["id"] for item in items if item.type == "inspection"]
        + [item.nested["id"] for item in items if item.nested]
    )
    firsts: dict[tuple, Received] = {}  # the first item of the request with each id
    repeats: dict[Received, Received] = {}
    for item in items:
        first = firsts.setdefault((item.type, item.data["id"]), item)
        if first is not item:
            repeats[item] = first
        elif item.type == "site" and item.data["id"] in stored_sites:
            outcomes[item] = _stored_site(actor, stored_sites[item.data["id"]], item.data, item.stamp)
        elif item.type == "inspection" and item.data["id"] in stored_inspections:
            outcomes[item] = _stored_inspection(actor, stored_inspections[item.data["id"]], item.data, item.stamp)
        elif item.nested and item.nested["id"] in stored_inspections:
            outcomes[item] = _conflict(item.nested["id"], site=False)
    new = [item for item in items if item not in outcomes and item not in repeats]
    received_at = timezone.now()
    drafts = _register_sites(actor, [item for item in new if item.type == "site"], clock_offset, received_at, outcomes)
    drafts += _inspections_to_record(actor, [item for item in new if item.type == "inspection"], clock_offset, outcomes)
    _record_inspections(actor, drafts, outcomes)
    for item, first in repeats.items():
        # The same id twice in one request: the same record is answered as the first was.
        same = item.stamp == first.stamp
        answer = outcomes[first]
        outcomes[item] = (
            Outcome(answer.status, answer.body, replay=answer.status == 201)
            if same
            else _conflict(item.data["id"], site=item.type == "site")
        )
    return outcomes


def _register_sites(actor, items: list[Received], clock_offset, received_at, outcomes) -> list:
    """Registers the new sites; returns (item, draft) of their first inspections."""
    checked = []
    for item in items:
        nested = item.nested
        first = nested and _inspection_draft(nested, item.data["id"], clock_offset)
        try:
            if first:
                services.check_inspection(first)
        except ValidationError as exc:
            outcomes[item] = invalid({"inspection": exc.message_dict if hasattr(exc, "error_dict") else exc.messages})
            continue
        # A site is active from its first observation, on the device's corrected clock.
        seen = first and services.counted_time(first.inspected_at, received_at, clock_offset)[0]
        draft = _draft(
            services.SiteDraft,
            item.data,
            site_id=item.data["id"],
            active_from=seen and timezone.localdate(seen),
            client_fingerprint=item.stamp,
        )
        checked.append((item, first, draft))
    sites = services.sites_register(actor=actor, drafts=[draft for _item, _first, draft in checked])
    inspections = []
    for (item, first, _site_draft), site in zip(checked, sites, strict=True):
        if isinstance(site, ValidationError):
            outcomes[item] = invalid(site)
            continue
        outcomes[item] = Outcome(201, site_body(site, first and first.inspection_id))
        if first:
            inspections.append((item, first))
    return inspections


def _surveyed_sites(actor, site_ids) -> dict:
    """The sites records name, by id, as far as the actor surveys them: a duplicate merged
    since stands for the site that was kept (lifecycle.surviving_sites)."""
    scope = scope_for(actor)
    named = selectors.sites(actor, SURVEY, deleted=True).select_related("area").filter(pk__in=set(site_ids)).in_bulk()
    return {
        site_id: site for site_id, site in lifecycle.surviving_sites(named).items() if scope.allows(SURVEY, site.area)
    }


def _inspections_to_record(actor, items: list[Received], clock_offset, outcomes) -> list:
    """(item, draft) of the new inspections whose site is in the actor's areas and not
    deleted; the others get their outcome. An inspection of a duplicate merged since is
    recorded on the site kept."""
    targets = _surveyed_sites(actor, [item.data["site"] for item in items])
    drafts = []
    for item in items:
        site = targets.get(item.data["site"])
        if site is None:
            outcomes[item] = _not_found(site=True)
        elif site.deleted_at:
            outcomes[item] = _gone(site=True)
        else:
            drafts.append((item, _inspection_draft(item.data, site.pk, clock_offset, item.stamp)))
    return drafts


def _record_inspections(actor, drafts: list, outcomes) -> None:
    results = services.inspections_record(actor=actor, drafts=[draft for _item, draft in drafts])
    for (item, _draft), result in zip(drafts, results, strict=True):
        if item.type == "site":
            # A new site's first inspection passed the same checks before its site was
            # written; refused now, the site must not stay.
            if not isinstance(result, Inspection):
                raise Refused(item, invalid(result) if isinstance(result, ValidationError) else _not_found(site=True))
        elif isinstance(result, Inspection):
            outcomes[item] = Outcome(201, inspection_body(result))
        elif isinstance(result, OutOfScope):
            outcomes[item] = _not_found(site=True)
        else:
            outcomes[item] = invalid(result)


def receive_site(*, actor, record, clock_offset: dt.timedelta | None = None) -> Outcome:
    (item,) = receive(actor=actor, sites=[record], inspections=[], clock_offset=clock_offset)
    return item.outcome


def receive_inspection(*, actor, record, clock_offset: dt.timedelta | None = None) -> Outcome:
    (item,) = receive(actor=actor, sites=[], inspections=[record], clock_offset=clock_offset)
    return item.outcome


def read_batch(body) -> tuple[list, list]:
    """The site and inspection records of a batch body, unread; ValidationError when the
    body is not a batch."""
    if not isinstance(body, dict):
        raise ValidationError(_('A batch must be a JSON object with the lists "sites" and "inspections".'))
    lists = []
    for name in ("sites", "inspections"):
        records = body.get(name, [])
        if not isinstance(records, list):
            raise ValidationError(_('"%(name)s" must be a list of records.') % {"name": name})
        if len(records) > BATCH_LIMIT:
            raise ValidationError(
                _("A batch holds at most %(limit)s %(name)s: send the rest in another batch.")
                % {"limit": format_number(BATCH_LIMIT), "name": name}
            )
        lists.append(records)
    return lists[0], lists[1]


def receive_batch(*, actor, body, clock_offset: dt.timedelta | None = None) -> list[dict]:
    """One outcome per record, in the order sent, sites first."""
    sites, inspections = read_batch(body)
    return [
        item.result() for item in receive(actor=actor, sites=sites, inspections=inspections, clock_offset=clock_offset)
    ]


def photo_body(photo: Photo) -> dict:
    return {
        "id": str(photo.pk),
        "inspection": str(photo.inspection_id),
        "sha256": photo.sha256,
        "width": photo.width,
        "height": photo.height,
    }


def receive_photo(*, actor, photo_id, inspection_id, data: bytes) -> Outcome:
    inspection = selectors.inspection(actor, inspection_id, SURVEY)
    if inspection is None:
        return _not_found(site=False)
    stored = selectors.stored_photo(photo_id)
    if stored is not None:
        if stored.inspection_id == inspection.pk and stored.sha256 == content_hash(data):
            return Outcome(201, photo_body(stored), replay=True)
        detail = _(
            "Another photo was already stored under this photo's id; it was kept and this photo was not "
            "stored. Keep the record on the tablet and show it to your area manager."
        )
        return _id_taken(photo_id, detail)
    try:
        photo, created = services.photo_attach(actor=actor, inspection=inspection, data=data, photo_id=photo_id)
    except ValidationError as exc:
        status = 413 if exc.code == "too_large" else 400
        return Outcome(status, error_body(exc.code or "invalid", " ".join(exc.messages)))
    except OutOfScope:
        return _not_found(site=False)
    return Outcome(201, photo_body(photo), replay=not created)


def proposal_body(proposal: ClosureProposal) -> dict:
    return {"id": str(proposal.pk), "site": str(proposal.site_id), "status": proposal.status}


def receive_closure_proposal(*, actor, record, clock_offset: dt.timedelta | None = None) -> Outcome:
    """A field worker's proposal to close a site, stored once like every record; a manager
    confirms or declines it. The day the worker saw the site is on the device's clock,
    corrected as an inspection's is."""
    if not isinstance(record, dict):
        return not_a_record()
    parsed = ClosureProposalIn(data=record)
    if not parsed.is_valid():
        return invalid(parsed.errors)
    data = parsed.validated_data
    stamp = fingerprint(record)
    existing = ClosureProposal.objects.select_related("site__area").filter(pk=data["id"]).first()
    if existing is not None:
        if not scope_for(actor).allows(SURVEY, existing.site.area):
            return _not_found(site=True)
        if existing.client_fingerprint == stamp:
            return Outcome(201, proposal_body(existing), replay=True)
        return _proposal_conflict(data["id"])
    site = _surveyed_sites(actor, [data["site"]]).get(data["site"])
    if site is None:
        return _not_found(site=True)
    if site.deleted_at:
        return _gone(site=True)
    try:
        with transaction.atomic():
            proposal = lifecycle.closure_propose(
                actor=actor,
                site=site,
                reason=data["reason"],
                observed_at=data["observed_at"],
                note=data["note"],
                proposal_id=data["id"],
                client_fingerprint=stamp,
                clock_offset=clock_offset,
            )
    except ValidationError as exc:
        return invalid(exc)
    except OutOfScope:
        return _not_found(site=True)
    except IntegrityError:
        return _proposal_conflict(data["id"])
    return Outcome(201, proposal_body(proposal))


def _proposal_conflict(record_id) -> Outcome:
    detail = _(
        "Another closure proposal was already stored under this record's id; it was kept and this record was not "
        "stored. Keep the record on the tablet and show it to your area manager."
    )
    return _id_taken(record_id, detail)
