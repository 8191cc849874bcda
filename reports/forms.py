import datetime as dt

from django import forms
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.scope import VIEW, scope_for
from areas.models import Area

from .periods import Period, half_year_containing, last_complete_half_year, year
from .selectors import Country

KINDS = [("half", _("Half-year")), ("year", _("Year")), ("range", _("Date range"))]


class ReportForm(forms.Form):
    """Which area and period; every field has a default, so an empty form is the area's
    last complete half-year."""

    area = forms.CharField(required=False, label=_("Area"))
    kind = forms.ChoiceField(choices=KINDS, required=False, label=_("Period"))
    year = forms.IntegerField(required=False, min_value=2015, max_value=2100, label=_("Year"))
    half = forms.TypedChoiceField(choices=[(1, "1"), (2, "2")], coerce=int, required=False, label=_("Half"))
    start = forms.DateField(required=False, label=_("From"))
    end = forms.DateField(required=False, label=_("To"))

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


def area_and_period(user, params):
    """The report's area (through the user's scope; Country for the whole registry) and
    period from its query, with the form that read them; None for what is not valid."""
    form = ReportForm(params)
    if not form.is_valid():
        return form, None, None
    scope = scope_for(user)
    visible = scope.restrict(Area.objects.all(), VIEW)
    code = form.cleaned_data.get("area")
    if code:
        area = visible.filter(code=code).first()
    elif scope.everything:
        area = Country()
    else:
        area = scope.root_areas(VIEW).order_by("path").first()
    if area is None:
        raise Http404
    return form, area, form.cleaned_data["period"]
