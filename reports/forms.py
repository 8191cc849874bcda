import datetime as dt
import re
import unicodedata

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.scope import VIEW, scope_for
from areas.models import Area

from .periods import Period, half_year_containing, last_complete_half_year, year
from .selectors import Country

KINDS = [("half", _("Half-year")), ("year", _("Year")), ("range", _("Date range"))]
# How many matching areas a form error or the search suggestions name.
SHOWN_MATCHES = 20


def plain(text: str) -> str:
    """A name as typed without tone marks or capitals ("Suối Bạc" → "suoi bac")."""
    decomposed = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).lower().split())


def matching_areas(user, text: str) -> list[Area]:
    """The areas in the user's scope whose code is `text`, or whose name contains it
    (tone marks and capitals aside); largest areas first."""
    visible = scope_for(user).restrict(Area.objects.only("pk", "code", "name", "path", "depth", "parent_id"), VIEW)
    text = text.strip()
    code = re.search(r"\(([^()]+)\)\s*$", text)  # "Xã Suối Bạc (99101)", as the suggestions read
    by_code = visible.filter(code=code.group(1) if code else text).first()
    if by_code:
        return [by_code]
    wanted = plain(text)
    areas = sorted(visible.order_by(), key=lambda a: (a.depth, a.name))
    exact = [a for a in areas if plain(a.name) == wanted]
    return exact or [a for a in areas if wanted in plain(a.name)]


# The years a report may cover (its periods and the one before them stay real dates).
FIRST_YEAR, LAST_YEAR = 2015, 2100


class ReportForm(forms.Form):
    """Which area and period; every field has a default, so an empty form is the top of
    the user's areas (the whole country for national users) and its last complete
    half-year. The area is found by its name or code within the user's areas."""

    area = forms.CharField(required=False, label=_("Area"), max_length=200)
    kind = forms.ChoiceField(choices=KINDS, required=False, label=_("Period"))
    year = forms.IntegerField(required=False, min_value=FIRST_YEAR, max_value=LAST_YEAR, label=_("Year"))
    half = forms.TypedChoiceField(choices=[(1, "1"), (2, "2")], coerce=int, required=False, label=_("Half"))
    start = forms.DateField(required=False, label=_("From"))
    end = forms.DateField(required=False, label=_("To"))

    def __init__(self, data, *, user):
        super().__init__(data)
        self.user = user

    def clean_area(self):
        text = (self.cleaned_data.get("area") or "").strip()
        scope = scope_for(self.user)
        if not text:
            if scope.everything:
                return Country()
            top = scope.root_areas(VIEW).order_by("path").first()
            if top is None:
                raise forms.ValidationError(_("Your account has no areas yet."))
            return top
        found = matching_areas(self.user, text)
        if len(found) == 1:
            return found[0]
        if not found:
            raise forms.ValidationError(_("No area named “%(text)s” in your areas.") % {"text": text})
        names = ", ".join(f"{a.name} ({a.code})" for a in found[:SHOWN_MATCHES])
        raise forms.ValidationError(
            _("Several areas match “%(text)s”: %(names)s. Choose one.") % {"text": text, "names": names}
        )

    def clean(self):
        data = super().clean()
        kind = data.get("kind") or "half"
        default = last_complete_half_year()
        if kind == "range":
            start, end = data.get("start"), data.get("end")
            if not start or not end:
                raise forms.ValidationError(_("Give both dates of the range."))
            if start > end:
                raise forms.ValidationError(_("The range starts after it ends."))
            if start.year < FIRST_YEAR or end.year > LAST_YEAR:
                raise forms.ValidationError(
                    _("A range lies between %(first)d and %(last)d.") % {"first": FIRST_YEAR, "last": LAST_YEAR}
                )
            if end - start > dt.timedelta(days=3660):
                raise forms.ValidationError(_("A range covers at most ten years."))
            data["period"] = Period(start, end, "range")
        elif kind == "year":
            data["period"] = year(data.get("year") or timezone.localdate().year - 1)
        else:
            number = data.get("year") or default.start.year
            half = data.get("half") or (1 if default.start.month == 1 else 2)
            data["period"] = half_year_containing(dt.date(number, 1 if half == 1 else 7, 1))
        return data

    def shown(self) -> dict:
        """The values the form shows: the area's name and the period actually reported
        (the defaults filled in), or what was typed when it was refused."""
        if not self.is_valid():
            return {name: self.data.get(name, "") for name in self.fields}
        area, period = self.cleaned_data["area"], self.cleaned_data["period"]
        return {
            "area": "" if area.pk is None else f"{area.name} ({area.code})",
            "kind": period.kind,
            "year": period.start.year,
            "half": 1 if period.start.month == 1 else 2,
            "start": period.start.isoformat() if period.kind == "range" else "",
            "end": period.end.isoformat() if period.kind == "range" else "",
        }


class SubmissionForm(forms.Form):
    """What the submitted document says besides the numbers."""

    issuing_body = forms.CharField(label=_("Issuing body"), max_length=200)
    parent_body = forms.CharField(label=_("Body above it (optional)"), max_length=200, required=False)
    symbol = forms.CharField(label=_("Symbol"), max_length=30, help_text=_("e.g. BC-UBND; the number is given"))
    place = forms.CharField(label=_("Place"), max_length=100)
    signer_capacity = forms.CharField(label=_("Signs as (optional)"), max_length=100, required=False)
    signer_title = forms.CharField(label=_("Signer's title"), max_length=100)
    signer_name = forms.CharField(label=_("Signer's name"), max_length=100)
    recipients = forms.CharField(
        label=_("Recipients, one a line"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    narrative = forms.CharField(
        label=_("Assessment and proposals"),
        widget=forms.Textarea(attrs={"rows": 8}),
        required=False,
        help_text=_("Blank lines separate paragraphs."),
    )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("approve", _("Approve")), ("return", _("Return for correction"))],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}), required=False)
