"""The notice to a site's owner (issue 22): a remediation order printed as the commune's
administrative notice (reports/administrative/, Nghị định 30/2020/NĐ-CP) in PDF and
DOCX: to the responsible party, the site and its state with a photo of its last
inspection (the last by the notice's date once issued), what is required and by when,
and who checks the work. It is written in the registry's language (Vietnamese),
whoever prints it. Until the notice is issued
(hazards.orders.order_issue_notice keeps its number and date) it prints as a draft with
the number left blank."""

import datetime as dt

from django.conf import settings
from django.db.models import Value
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hazards import selectors
from hazards.models import Inspection, Photo, Requirement
from hazards.orders import NOTICE_SYMBOL, notice_issuer
from hazards.rules import SiteState, StateOf, day_start

from .administrative import AdministrativeDocument, Paragraph, Picture, Signature, pdf, word
from .documents import default_details

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


def _day(value) -> str:
    return f"{value:%d/%m/%Y}"


def _person(user) -> str:
    """A person's name as Vietnamese write it, family name first."""
    return f"{user.last_name} {user.first_name}".strip() or user.username


def _contact(user) -> str:
    """A person's name and, when the registry has it, their phone: the owner calls them."""
    if not user.phone:
        return _person(user)
    return _("%(person)s (phone %(phone)s)") % {"person": _person(user), "phone": user.phone}


# What the owner is asked to do, as the notice words it (the order's "other" is its details).
ACTIONS = {
    Requirement.SIGN: gettext_lazy("Put up a sign warning of deep water and the danger of drowning"),
    Requirement.BARRIER: gettext_lazy("Put up a barrier around the dangerous water"),
    Requirement.COVER: gettext_lazy("Cover it securely"),
    Requirement.FILL_OR_DRAIN: gettext_lazy("Fill it in or drain it"),
}

# What the inspection found missing, by the state its sign and barrier give.
FINDINGS = {
    SiteState.UNPROTECTED: gettext_lazy("lacks the warning sign and barrier that the rules require"),
    SiteState.SIGNED_ONLY: gettext_lazy("lacks the barrier that the rules require"),
    SiteState.FENCED_ONLY: gettext_lazy("lacks the warning sign that the rules require"),
}
# Not inspected yet, or found protected (a cover or a fill may still be asked for).
NOT_SAFE = gettext_lazy("is not made safe as the rules require")


def _shown_inspection(order) -> Inspection | None:
    """The inspection whose state the notice states: the site's last by the notice's date
    once it is issued (printed again later, the kept notice says what it said, not that a
    site since put right lacks its sign and barrier), else its last."""
    inspections = selectors.site_inspections(order.site)
    if order.notice_date:
        end = day_start(order.notice_date + dt.timedelta(days=1))
        inspections = inspections.filter(observed_at__lt=end)
    shown = inspections.annotate(shown_state=StateOf(closed=Value(False)))
    return shown.order_by("-observed_at", "-received_at").first()


def _photo(inspection) -> Photo | None:
    """A photo of that inspection, else of the last one before it that has any."""
    return (
        selectors.site_photos(inspection.site_id)
        .filter(inspection__observed_at__lte=inspection.observed_at)
        .select_related("inspection")
        .order_by("-inspection__observed_at", "-created_at")
        .first()
    )


def _body(order, issuer: str, commune) -> list:
    """The notice's text; `issuer` is the body's name, capitalised wherever it stands
    ("Ủy ban nhân dân xã …", as Nghị định 30/2020 writes the names of bodies), of the
    area `commune` (hazards.orders.notice_issuer)."""
    site = order.site
    place = site.area.name if site.area == commune else f"{site.area.name}, {commune.name}"
    party = order.party_name
    if order.party_address:
        party = _("%(party)s, %(address)s") % {"party": party, "address": order.party_address}
    lon, lat = site.location.coords
    shown = _shown_inspection(order)
    # A notice not issued yet has no number: marked so that nobody sends it as it is.
    blocks = [Paragraph(_("DRAFT: not issued, no number yet"), style="heading")] if not order.notice_number else []
    blocks += [
        Paragraph(_("To: %(party)s") % {"party": party}, style="heading"),
        Paragraph(
            _(
                "On inspection, the %(issuer)s found that %(kind)s “%(name)s” (site %(code)s, at %(lat).5f, "
                "%(lon).5f, %(area)s), under the responsibility of %(party)s, %(finding)s, and puts people, "
                "children above all, in danger of drowning."
            )
            % {
                "issuer": issuer,
                "kind": site.get_kind_display().lower(),
                "name": site.name,
                "code": site.code,
                "lat": lat,
                "lon": lon,
                "area": place,
                "party": order.party_name,
                "finding": FINDINGS.get(shown.shown_state, NOT_SAFE) if shown is not None else NOT_SAFE,
            }
        ),
    ]
    if shown is not None:
        blocks.append(
            Paragraph(
                _("At its last inspection, on %(day)s: warning sign: %(signage)s; barrier: %(barrier)s.")
                % {
                    "day": _day(timezone.localdate(shown.observed_at)),
                    "signage": shown.get_signage_display().lower(),
                    "barrier": shown.get_barrier_display().lower(),
                }
            )
        )
    blocks.append(Paragraph(_("The %(issuer)s requests %(party)s:") % {"issuer": issuer, "party": order.party_name}))
    actions = [str(ACTIONS[r]) for r in order.requirements if r in ACTIONS]
    if order.details:
        actions.append(order.details.rstrip(".;"))
    for i, action in enumerate(actions):
        blocks.append(Paragraph(f"- {action}{'.' if i == len(actions) - 1 else ';'}"))
    blocks += [
        Paragraph(_("The work is to be finished by %(day)s at the latest.") % {"day": _day(order.deadline)}),
        Paragraph(
            _(
                "When the work is done, inform %(person)s, who follows this request up, so that the site is "
                "inspected and the work confirmed."
            )
            % {"person": _contact(order.follow_up)}
        ),
    ]
    photo = _photo(shown) if shown is not None else None
    if photo is not None:
        with photo.image.open("rb") as image:
            data = image.read()
        caption = _("The site at its inspection of %(day)s") % {
            "day": _day(timezone.localdate(photo.inspection.observed_at))
        }
        blocks.append(Picture(data, caption))
    return blocks


def notice(order) -> AdministrativeDocument:
    """The order's notice as a document, in the registry's language."""
    with translation.override(settings.LANGUAGE_CODE):
        commune = notice_issuer(order.site.area)
        details = default_details(commune)
        number = order.notice_number.split("/", 1)[0] if order.notice_number else ""
        return AdministrativeDocument(
            issuing_body=details.issuing_body,
            kind=_("Notice"),
            subject=_("On putting right the drowning hazard at %(site)s") % {"site": order.site.name},
            place=details.place,
            day=order.notice_date or timezone.localdate(),
            number=number,
            symbol=NOTICE_SYMBOL,
            body=_body(order, details.issuing_body, commune),
            recipients=[f"{order.party_name};", f"{_person(order.follow_up)};", *details.recipients],
            signature=Signature(title=details.signer_title, capacity=details.signer_capacity),
            title=_("Notice %(number)s") % {"number": order.notice_number or order.site.code},
        )


def render(order, fmt: str) -> bytes:
    document = notice(order)
    with translation.override(settings.LANGUAGE_CODE):
        return pdf.render(document) if fmt == "pdf" else word.render(document)
