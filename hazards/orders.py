"""Every write to remediation orders. An order is opened by a manager for a site that is
not protected, acknowledged and reported done on the owner's word, and verified only by
an inspection that shows the requirement met (orders_apply_inspections, which the
inspection service calls for every inspection, whatever brought it: tablet, form, import).

open ──acknowledge──▶ acknowledged ──mark done──▶ done ──inspection: met──▶ verified
  ▲                                                 │
  └──────────────── inspection: unmet ──────────────┘
An inspection showing the requirement met verifies an open or acknowledged order too."""

import datetime as dt

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Value
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import act_as
from accounts.scope import ADMINISTER, EDIT, SURVEY, scope_for
from areas.models import Area
from common.numbers import format_number
from common.text import clean_text

from . import selectors
from .models import Inspection, Site
from .models_remediation import UNVERIFIED, OrderState, PartyKind, RemediationOrder, Requirement
from .rules import FENCED_STATES, SIGNED_STATES, SiteState, StateOf


def requirement_met(requirement: str, state: str, water_present: bool) -> bool:
    """Whether an inspection shows one requirement met, from the state its sign and
    barrier give (the registry's one rule, rules.StateOf). A cover is a barrier (DESIGN:
    barrier = fence, railing, cover); a filled or drained site holds no water; "other" is
    judged by the site being protected, the registry's one target."""
    signed, fenced = state in SIGNED_STATES, state in FENCED_STATES
    return {
        Requirement.SIGN: signed,
        Requirement.BARRIER: fenced,
        Requirement.COVER: fenced,
        Requirement.FILL_OR_DRAIN: not water_present,
        Requirement.OTHER: state == SiteState.PROTECTED,
    }[requirement]


def _clean_choice(value: str, choices, field: str) -> str:
    if value not in choices.values:
        raise ValidationError({field: _("Choose one of: %(choices)s.") % {"choices": ", ".join(choices.values)}})
    return value


def _clean_text(value, field: str, limit: int, *, required: bool = False, message: str = "") -> str:
    """The stored text rule (no control characters: the notice's PDF and DOCX print it), a
    length and, if required, a message for the empty field."""
    label = RemediationOrder._meta.get_field(field).verbose_name
    text = clean_text(value, field, label, lines=field == "details")
    if required and not text:
        raise ValidationError({field: message})
    if len(text) > limit:
        raise ValidationError({field: _("At most %(limit)s characters.") % {"limit": format_number(limit)}})
    return text


def _clean_requirements(values, details: str) -> list[str]:
    chosen = []
    for value in values or []:
        _clean_choice(value, Requirement, "requirements")
        if value not in chosen:
            chosen.append(value)
    if not chosen:
        raise ValidationError({"requirements": _("Choose at least one thing the owner must do.")})
    if Requirement.OTHER in chosen and not details:
        raise ValidationError({"details": _("Say what else the owner must do.")})
    return chosen


def _refuse_met(requirements, site: Site) -> None:
    """An order asks only for what the site lacks: one asking for what its last inspection
    already shows (a cover where the barrier is complete) would be verified by the next
    inspection with nothing done. Judged as that inspection will be: by the state and by
    whether its inspector found water (never inspected: as if found)."""
    last = selectors.site_inspections(site).order_by("-observed_at", "-received_at")
    water_present = last.values_list("water_present", flat=True).first()
    water_present = True if water_present is None else water_present
    met = [value for value in requirements if requirement_met(value, site.state, water_present)]
    if met:
        raise ValidationError(
            {
                "requirements": _(
                    "The site's last inspection already shows this in place: %(met)s. A cover counts as a "
                    "barrier. Ask only for what is missing."
                )
                % {"met": ", ".join(str(Requirement(value).label) for value in met)}
            }
        )


def _clean_deadline(deadline) -> dt.date:
    if not isinstance(deadline, dt.date):
        raise ValidationError({"deadline": _("Give the deadline as a date.")})
    if deadline < timezone.localdate():
        raise ValidationError({"deadline": _("The deadline cannot be in the past.")})
    return deadline


def _clean_follow_up(person, site: Site):
    """The follow-up person must be able to inspect the site: a field worker or manager
    whose areas hold it."""
    if person is None:
        raise ValidationError({"follow_up": _("Name who follows this order up.")})
    if not isinstance(person, get_user_model()) or not person.is_active:
        raise ValidationError({"follow_up": _("The follow-up person must be an active account.")})
    if not scope_for(person).allows(SURVEY, site.area):
        raise ValidationError(
            {"follow_up": _("%(person)s does not work in %(area)s.") % {"person": person, "area": site.area.name}}
        )
    return person


def _party(fields: dict) -> dict:
    return {
        "party_kind": _clean_choice(fields.get("party_kind"), PartyKind, "party_kind"),
        "party_name": _clean_text(
            fields.get("party_name"), "party_name", 200, required=True, message=_("Name the responsible party.")
        ),
        "party_phone": _clean_text(fields.get("party_phone"), "party_phone", 30),
        "party_address": _clean_text(fields.get("party_address"), "party_address", 300),
    }


def _locked_site(site: Site) -> Site:
    return Site.objects.select_related("area").select_for_update(of=("self",)).get(pk=site.pk)


@transaction.atomic
def order_open(
    *,
    actor,
    site: Site,
    party_kind: str,
    party_name: str,
    requirements: list[str],
    deadline: dt.date,
    follow_up,
    party_phone: str = "",
    party_address: str = "",
    details: str = "",
) -> RemediationOrder:
    act_as(actor)
    site = _locked_site(site)
    scope_for(actor).require_record(EDIT, site)
    if site.closed_at:
        raise ValidationError(_("Site %(code)s is closed; it needs no order.") % {"code": site.code})
    if site.is_protected:
        raise ValidationError(_("Site %(code)s is protected (sign and barrier in place).") % {"code": site.code})
    existing = RemediationOrder.objects.filter(site=site, state__in=UNVERIFIED).first()
    if existing:
        raise ValidationError(
            _("Site %(code)s already has an order not yet verified (deadline %(deadline)s): change that one.")
            % {"code": site.code, "deadline": existing.deadline.strftime("%d/%m/%Y")}
        )
    details = _clean_text(details, "details", 2000)
    requirements = _clean_requirements(requirements, details)
    _refuse_met(requirements, site)
    return RemediationOrder.objects.create(
        site=site,
        **_party(
            {
                "party_kind": party_kind,
                "party_name": party_name,
                "party_phone": party_phone,
                "party_address": party_address,
            }
        ),
        requirements=requirements,
        details=details,
        deadline=_clean_deadline(deadline),
        follow_up=_clean_follow_up(follow_up, site),
        opened_at=timezone.now(),
        opened_by=actor,
    )


def needs_order(site: Site) -> bool:
    """An open site that is not protected and has no order waiting (order_open decides
    for good)."""
    if site.closed_at or site.is_protected:
        return False
    return not RemediationOrder.objects.filter(site=site, state__in=UNVERIFIED).exists()


def may_open_order(user, site: Site) -> bool:
    """Whether to offer `user` to open an order for `site`."""
    return scope_for(user).allows(EDIT, site.area) and needs_order(site)


def _locked_order(order: RemediationOrder, actor, verb: str = EDIT) -> RemediationOrder:
    order = RemediationOrder.objects.select_related("site__area").select_for_update(of=("self",)).get(pk=order.pk)
    scope_for(actor).require_record(verb, order)
    return order


ORDER_EDITABLE = {
    "party_kind",
    "party_name",
    "party_phone",
    "party_address",
    "requirements",
    "details",
    "deadline",
    "follow_up",
}


@transaction.atomic
def order_update(*, actor, order: RemediationOrder, **changes) -> RemediationOrder:
    """Change what an unverified order asks, of whom, by when, and who follows it up."""
    unknown = set(changes) - ORDER_EDITABLE
    if unknown:
        raise ValidationError(_("These fields cannot be changed: %(fields)s.") % {"fields": ", ".join(sorted(unknown))})
    act_as(actor)
    order = _locked_order(order, actor)
    if not order.may_change:
        raise ValidationError(_("A verified order is closed; open a new one if the site needs more."))
    party = {
        key: changes.get(key, getattr(order, key))
        for key in ("party_kind", "party_name", "party_phone", "party_address")
    }
    for key, value in _party(party).items():
        setattr(order, key, value)
    order.details = _clean_text(changes.get("details", order.details), "details", 2000)
    requirements = _clean_requirements(changes.get("requirements", order.requirements), order.details)
    # What it asked for before stays, met or not: its inspections decide on it.
    _refuse_met([value for value in requirements if value not in order.requirements], order.site)
    order.requirements = requirements
    if "deadline" in changes and changes["deadline"] != order.deadline:
        order.deadline = _clean_deadline(changes["deadline"])
    if "follow_up" in changes:
        order.follow_up = _clean_follow_up(changes["follow_up"], order.site)
    order.save()
    return order


def _moved(order: RemediationOrder, state: str, **stamps) -> RemediationOrder:
    """The order in its new state, unsaved."""
    order.state = state
    for key, value in stamps.items():
        setattr(order, key, value)
    return order


def _move(order: RemediationOrder, state: str, **stamps) -> RemediationOrder:
    _moved(order, state, **stamps).save(update_fields=["state", *stamps, "updated_at"])
    return order


@transaction.atomic
def order_acknowledge(*, actor, order: RemediationOrder) -> RemediationOrder:
    """The owner has received the notice and agreed to act."""
    act_as(actor)
    order = _locked_order(order, actor, SURVEY)
    if not order.may_acknowledge:
        raise ValidationError(
            _("Only an open order can be acknowledged; this one is %(state)s.") % {"state": order.get_state_display()}
        )
    return _move(order, OrderState.ACKNOWLEDGED, acknowledged_at=timezone.now())


@transaction.atomic
def order_mark_done(*, actor, order: RemediationOrder) -> RemediationOrder:
    """The owner says the work is done: the site now waits for an inspection."""
    act_as(actor)
    order = _locked_order(order, actor, SURVEY)
    if not order.may_report_done:
        raise ValidationError(
            _("This order is %(state)s; only an open or acknowledged order can be reported done.")
            % {"state": order.get_state_display()}
        )
    return _move(
        order, OrderState.DONE, done_at=timezone.now(), acknowledged_at=order.acknowledged_at or timezone.now()
    )


def orders_apply_inspections(inspections: list[Inspection]) -> None:
    """Let new inspections decide their sites' unverified orders: one that shows the
    requirement met verifies the order; one that shows it unmet reopens an order
    reported done. Called inside the inspection service's transaction with the sites
    locked, for a tablet's whole batch at once (one query finds the orders, one more the
    states the inspections show, for the sites that have an order). Only inspections
    made after the order was opened count, and only those made after the owner reported
    done can reopen it; a site's inspections decide in the order they were made. One
    statement writes the orders they move."""
    by_site: dict = {}
    for inspection in sorted(inspections, key=lambda i: i.observed_at):
        by_site.setdefault(inspection.site_id, []).append(inspection)
    orders = list(RemediationOrder.objects.select_for_update().filter(site_id__in=list(by_site), state__in=UNVERIFIED))
    if not orders:
        return
    deciding = [i.pk for order in orders for i in by_site[order.site_id]]
    shown = dict(
        Inspection.objects.filter(pk__in=deciding)
        .annotate(shown=StateOf(closed=Value(False)))
        .values_list("pk", "shown")
    )
    now = timezone.now()
    moved = []
    for order in orders:
        for inspection in by_site[order.site_id]:
            if inspection.observed_at < order.opened_at:
                continue
            if all(requirement_met(r, shown[inspection.pk], inspection.water_present) for r in order.requirements):
                moved.append(_moved(order, OrderState.VERIFIED, verified_at=now, decided_by=inspection))
                break
            if order.state == OrderState.DONE and inspection.observed_at >= order.done_at:
                moved.append(
                    _moved(
                        order,
                        OrderState.OPEN,
                        done_at=None,
                        decided_by=inspection,
                        reopened_count=order.reopened_count + 1,
                    )
                )
    for order in moved:
        order.updated_at = now  # written by hand: a bulk update leaves auto_now alone
    # One statement for the batch's orders; an order moved twice (reopened, then
    # verified by a later inspection) is written once, as it ends.
    RemediationOrder.objects.bulk_update(
        set(moved), ["state", "verified_at", "done_at", "decided_by", "reopened_count", "updated_at"]
    )


@transaction.atomic
def order_delete(*, actor, order: RemediationOrder, deleted: bool = True) -> RemediationOrder:
    """Delete an order softly (managers), or with deleted=False restore it (administrators)."""
    act_as(actor)
    order = RemediationOrder.all_objects.select_related("site__area").select_for_update(of=("self",)).get(pk=order.pk)
    scope = scope_for(actor)
    if deleted:
        scope.require_record(EDIT, order)
    else:
        scope.require(ADMINISTER, order.site.area)
        if (
            order.state != OrderState.VERIFIED
            and RemediationOrder.objects.filter(site_id=order.site_id, state__in=UNVERIFIED).exists()
        ):
            raise ValidationError(_("The site has another order not yet verified; restore this one after it."))
    order.deleted_at, order.deleted_by = (timezone.now(), actor) if deleted else (None, None)
    order.save(update_fields=["deleted_at", "deleted_by", "updated_at"])
    return order


def orders_follow_merge(*, duplicate: Site, kept: Site) -> list:
    """A duplicate merged into the site kept is one place: its orders move with its
    inspections, so their follow-up goes on at the site kept, all but an order not yet
    verified when the site kept has one of its own (one at a time per site), which stays
    with the deleted duplicate and so leaves the lists. Returns the ids moved, which the
    merge keeps for its undoing (orders_return)."""
    moving = RemediationOrder.all_objects.filter(site=duplicate)
    if RemediationOrder.objects.filter(site=kept, state__in=UNVERIFIED).exists():
        moving = moving.exclude(state__in=UNVERIFIED, deleted_at__isnull=True)
    moved = list(moving.values_list("pk", flat=True))
    RemediationOrder.all_objects.filter(pk__in=moved).update(site=kept)
    return moved


def orders_return(*, moved: list, kept: Site, duplicate: Site) -> None:
    """Undoing a merge: the orders it moved go back to the duplicate."""
    RemediationOrder.all_objects.filter(pk__in=moved, site=kept).update(site=duplicate)


NOTICE_SYMBOL = "TB-UBND"


def notice_issuer(area: Area) -> Area:
    """Whose People's Committee requires the owner of a site lying in `area`: the commune
    (or ward, town) holding it, as a village (thôn, bản, tổ dân phố) has none."""
    while area.level == Area.Level.VILLAGE and area.parent_id:
        area = area.parent
    return area


def _issued_by(issuer: Area) -> list:
    """The areas whose sites' notices `issuer` issues: its own and its villages'."""
    ids, below = [issuer.pk], [issuer.pk]
    while below:
        below = list(Area.objects.filter(parent_id__in=below, level=Area.Level.VILLAGE).values_list("pk", flat=True))
        ids += below
    return ids


@transaction.atomic
def order_issue_notice(*, actor, order: RemediationOrder) -> RemediationOrder:
    """Give the order's notice its number and date, once: printing it again shows the
    same. Numbers run per issuing commune and year: "7/TB-UBND"."""
    act_as(actor)
    order = _locked_order(order, actor)
    if not order.may_issue_notice:
        return order
    today = timezone.localdate()
    issuer = notice_issuer(order.site.area)
    with connection.cursor() as cursor:
        # Two managers of one commune issuing at once must not take the same number.
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"notice:{issuer.pk}:{today.year}"])
    issued = RemediationOrder.all_objects.filter(
        site__area__in=_issued_by(issuer), notice_date__year=today.year, notice_number__endswith=f"/{NOTICE_SYMBOL}"
    ).count()
    return _move(order, order.state, notice_number=f"{issued + 1}/{NOTICE_SYMBOL}", notice_date=today)
