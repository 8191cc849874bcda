"""The forms of a site's life (close, reopen, merge, decide a closure proposal), used by
the site's admin page and drawn in the planner map's site panel; the rules they lead to
are in hazards/lifecycle.py."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import CloseReason

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class CloseForm(forms.Form):
    reason = forms.ChoiceField(label=_("Reason"), choices=CloseReason.choices)
    closed_at = forms.DateField(
        label=_("Closed on"),
        required=False,
        widget=DATE,
        initial=timezone.localdate,
        help_text=_("The site no longer counts from this day. Empty: today."),
    )
    duplicate_of = forms.CharField(
        label=_("Duplicate of (code of the site kept)"),
        required=False,
        max_length=64,
        help_text=_("Only for a duplicate: its inspections and photos move to that site."),
    )
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ReopenForm(forms.Form):
    reopened_on = forms.DateField(
        label=_("Reopened on"),
        required=False,
        widget=DATE,
        initial=timezone.localdate,
        help_text=_("The site counts again from this day; the days since its closure stay closed. Empty: today."),
    )


class MergeForm(forms.Form):
    into = forms.CharField(
        label=_("Merge into (code of the site kept)"),
        max_length=64,
        help_text=_(
            "This site is a duplicate: its inspections and photos move to the site kept, and it leaves every "
            "report as if it had never existed. An administrator can undo the merge."
        ),
    )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("confirm", _("Confirm: close the site")), ("decline", _("Decline: the site stays open"))],
        widget=forms.RadioSelect,
    )
    closed_at = forms.DateField(
        label=_("Closed on"),
        required=False,
        widget=DATE,
        help_text=_("Empty: the day the field worker saw it."),
    )
    duplicate_of = forms.CharField(label=_("Duplicate of (code of the site kept)"), required=False, max_length=64)
    note = forms.CharField(
        label=_("Note to the field worker"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
