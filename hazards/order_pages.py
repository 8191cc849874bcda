"""Managers' pages for remediation orders (/orders/) and campaigns (/campaigns/): the
follow-up lists, opening and changing an order, its history, a campaign's board.
Thin: the forms parse, the services write, the selectors read."""

import datetime as dt
import uuid

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.scope import EDIT, SURVEY, VIEW, OutOfScope, scope_for
from areas.models import Area
from common.errors import refused_for
from common.forms import add_refusal
from common.navigation import links
from common.periods import period_dates, period_name

from . import campaign_files, campaigns, orders, selectors
from .filters import ORDER_LABELS, ORDER_PERIOD_LABELS, chosen_area, order_period_param
from .models import Site
from .models_remediation import PartyKind, RemediationOrder, Requirement
from .order_selectors import (
    FOLLOW_UP_LISTS,
    campaign_assignments,
    campaign_board,
    campaigns_for,
    filter_orders,
    follow_up_tables,
    listed_ids,
    listed_page,
    order_history,
    order_rows,
    orders_for,
    people_who_survey,
    with_overdue,
)
from .signals import ORDER_NOTICE

PAGE_SIZE = 100


class PersonChoiceField(forms.ModelChoiceField):
    """A person to choose by the name the lists show, with the sign-in name that tells two
    of one name apart."""

    def label_from_instance(self, obj) -> str:
        name = obj.get_full_name()
        return f"{name} ({obj.username})" if name else obj.username


class OrderForm(forms.Form):
    party_kind = forms.ChoiceField(label=gettext_lazy("Kind of responsible party"), choices=PartyKind.choices)
    party_name = forms.CharField(label=gettext_lazy("Responsible party"), max_length=200)
    party_phone = forms.CharField(label=gettext_lazy("Phone"), max_length=30, required=False)
    party_address = forms.CharField(label=gettext_lazy("Address"), max_length=300, required=False)
    requirements = forms.MultipleChoiceField(
        label=gettext_lazy("Required"), choices=Requirement.choices, widget=forms.CheckboxSelectMultiple
    )
    details = forms.CharField(label=gettext_lazy("Details"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    deadline = forms.DateField(label=gettext_lazy("Deadline"), widget=forms.DateInput(attrs={"type": "date"}))
    follow_up = PersonChoiceField(label=gettext_lazy("Followed up by"), queryset=None)

    def __init__(self, *args, site: Site, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["follow_up"].queryset = people_who_survey(site.area)

    def apply(self, call):
        """Run a service with the cleaned data; its refusals become the form's errors."""
        try:
            return call(**self.cleaned_data)
        except ValidationError as exc:
            for field, errors in (exc.message_dict if hasattr(exc, "error_dict") else {None: exc.messages}).items():
                self.add_error(field if field in self.fields else None, errors)
        return None


def _visible_order(request, pk) -> RemediationOrder:
    return get_object_or_404(with_overdue(orders_for(request.user)), pk=pk)


def _may(user, verb, record) -> bool:
    try:
        scope_for(user).require_record(verb, record)
    except OutOfScope:
        return False
    return True


def _form_page(request, template: str, context: dict) -> HttpResponse:
    """A form page; shown again with its errors it is a refusal (400), as the registry's
    other forms answer."""
    return render(request, template, context, status=400 if context["form"].errors else 200)


@login_required
@require_GET
def order_list(request):
    """The follow-up lists (counts per area and per person, each a link) and the orders
    under the filters."""
    today = timezone.localdate()
    try:
        chosen = filter_orders(orders_for(request.user), request)
        area = chosen_area(request)
        period = order_period_param(request)
    except ValidationError as exc:
        return refused_for(request, exc)
    roots = [area] if area else list(scope_for(request.user).root_areas(VIEW).order_by("path"))
    tables = follow_up_tables(request.user, roots, today)
    number = _page_number(request.GET.get("page", ""))
    ids, count = listed_page(chosen, (number - 1) * PAGE_SIZE, PAGE_SIZE)
    paginator = Paginator(listed_ids(chosen), PAGE_SIZE)
    paginator.count = count  # counted with the page (listed_page), not again
    page = paginator.get_page(number)
    # A page past the end shows the last one, as Paginator.get_page does.
    page.object_list = order_rows(ids if page.number == number else page.object_list)
    params = request.GET.copy()
    params.pop("page", None)
    context = {
        "area": area,
        "lists": [(name, ORDER_LABELS[name]) for name in FOLLOW_UP_LISTS],
        "totals": tables.total,
        "by_area": tables.by_area,
        "by_person": tables.by_person,
        "page": page,
        "order_filters": list(ORDER_LABELS.items()),
        "chosen": request.GET.get("order", ""),
        "follow_up": request.GET.get("follow_up", ""),
        "query": params.urlencode(),
        "area_query": f"area={area.code}&" if area else "",
        # A report's number links here: the list it counts, named above the orders.
        "period": period and _period_heading(*period),
    }
    return render(request, "orders/list.html", context)


def _page_number(text: str) -> int:
    """?page=: a whole number from 1, else the first page; one past any list (whose offset
    PostgreSQL could not take) is the last page, as for any page past the end."""
    return min(int(text), 10**9) if text.isascii() and text.isdigit() and int(text) > 0 else 1


def _period_heading(event: str, start, end) -> dict:
    """The list and the period as the report naming it says ("6 tháng đầu năm 2026")."""
    name = period_name(start, end)
    dates = period_dates(start, end)
    return {"label": ORDER_PERIOD_LABELS[event], "name": name or dates, "dates": dates if name else ""}


@login_required
@require_http_methods(["GET", "POST"])
def order_new(request):
    chosen = _uuid_or_404(request.GET.get("site"))
    site = selectors.sites(request.user, EDIT).select_related("area").filter(pk=chosen).first()
    if site is None:
        raise Http404
    form = OrderForm(request.POST or None, site=site, initial={"party_name": site.responsible_party})
    if request.method == "POST" and form.is_valid():
        order = form.apply(lambda **data: orders.order_open(actor=request.user, site=site, **data))
        if order is not None:
            return redirect("order-detail", order.pk)
    return _form_page(request, "orders/form.html", {"form": form, "site": site, "order": None})


def _uuid_or_404(value):
    try:
        return uuid.UUID(value or "")
    except ValueError:
        raise Http404 from None


@login_required
@require_http_methods(["GET", "POST"])
def order_edit(request, pk):
    order = _visible_order(request, pk)
    if not _may(request.user, EDIT, order) or not order.may_change:
        raise Http404
    initial = {f: getattr(order, f) for f in orders.ORDER_EDITABLE}
    form = OrderForm(request.POST or None, site=order.site, initial=initial)
    if request.method == "POST" and form.is_valid():
        changed = {f: form.cleaned_data[f] for f in form.changed_data}
        if form.apply(lambda **_data: orders.order_update(actor=request.user, order=order, **changed)) is not None:
            return redirect("order-detail", order.pk)
    return _form_page(request, "orders/form.html", {"form": form, "site": order.site, "order": order})


@login_required
@require_GET
def order_detail(request, pk):
    order = _visible_order(request, pk)
    context = {
        "order": order,
        "can_edit": _may(request.user, EDIT, order),
        "can_survey": _may(request.user, SURVEY, order),
        "history": order_history(order),
        "notice_files": links(ORDER_NOTICE, request.user, order),
    }
    return render(request, "orders/detail.html", context)


ACTIONS = {
    "acknowledge": orders.order_acknowledge,
    "done": orders.order_mark_done,
    "delete": orders.order_delete,
    "notice": orders.order_issue_notice,
}


@login_required
@require_POST
def order_action(request, pk, action):
    order = _visible_order(request, pk)
    if action not in ACTIONS:
        raise Http404
    try:
        ACTIONS[action](actor=request.user, order=order)
    except OutOfScope:
        raise Http404 from None
    except ValidationError as exc:
        return refused_for(request, exc)
    return redirect("order-list" if action == "delete" else "order-detail", *([] if action == "delete" else [order.pk]))


# ---------- campaigns ----------


class CampaignForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    area = forms.CharField(
        label=gettext_lazy("Area code"),
        max_length=20,
        required=False,
        help_text=gettext_lazy("empty: the whole country"),
    )
    starts_on = forms.DateField(label=gettext_lazy("Starts on"), widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label=gettext_lazy("Ends on"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_area(self):
        if not self.cleaned_data["area"]:
            if not scope_for(self.user).everything:
                raise ValidationError(_("Give the code of one of your areas."))
            return None
        area = scope_for(self.user).restrict(Area.objects.all(), EDIT).filter(code=self.cleaned_data["area"]).first()
        if area is None:
            raise ValidationError(_("No area with this code among the areas you manage."))
        return area


@login_required
@require_http_methods(["GET", "POST"])
def campaign_list(request):
    scope = scope_for(request.user)
    may_start = scope.holds(EDIT)
    # The coming pre-summer window: this year's until its last day, then next year's (a
    # window already over cannot be started).
    today = timezone.localdate()
    year = today.year if today <= dt.date(today.year, 5, 31) else today.year + 1
    initial = {
        "starts_on": dt.date(year, 4, 1),
        "ends_on": dt.date(year, 5, 31),
        "name": _("Before summer %(year)s") % {"year": year},
    }
    root = scope.root_areas(EDIT).order_by("path").first()
    if root:
        initial["area"] = root.code
    form = CampaignForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST":
        if not may_start:
            raise Http404
        if form.is_valid():
            try:
                campaign = campaigns.campaign_start(actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                add_refusal(form, exc)
            else:
                return redirect("campaign-board", campaign.pk)
    context = {
        "campaigns": campaigns_for(request.user),
        "form": form,
        "may_start": may_start,
        "today": today,
    }
    return _form_page(request, "campaigns/list.html", context)


class CampaignEditForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    starts_on = forms.DateField(label=gettext_lazy("Starts on"), widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label=gettext_lazy("Ends on"), widget=forms.DateInput(attrs={"type": "date"}))


def _editable_campaign(request, pk):
    """A campaign the user sees and manages (its area, or the country for national
    administrators); 404 otherwise, as for any record outside one's areas."""
    campaign = get_object_or_404(campaigns_for(request.user), pk=pk)
    if not scope_for(request.user).allows_area_or_country(EDIT, campaign.area):
        raise Http404
    return campaign


@login_required
@require_http_methods(["GET", "POST"])
def campaign_edit(request, pk):
    """Rename a campaign or move its window (hazards.campaigns.campaign_update says what
    may move and when its sites are chosen again)."""
    campaign = _editable_campaign(request, pk)
    initial = {"name": campaign.name, "starts_on": campaign.starts_on, "ends_on": campaign.ends_on}
    form = CampaignEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            campaigns.campaign_update(actor=request.user, campaign=campaign, **form.cleaned_data)
        except ValidationError as exc:
            for field, errors in (exc.message_dict if hasattr(exc, "error_dict") else {None: exc.messages}).items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            return redirect("campaign-board", campaign.pk)
    context = {"form": form, "campaign": campaign, "opened": campaign.starts_on <= timezone.localdate()}
    return _form_page(request, "campaigns/edit.html", context)


class AssignForm(forms.Form):
    area = forms.ModelChoiceField(queryset=Area.objects.none(), widget=forms.HiddenInput)
    worker = PersonChoiceField(queryset=None, label=gettext_lazy("Field worker"))
    only_unassigned = forms.BooleanField(required=False, label=gettext_lazy("Only sites nobody has"))

    def __init__(self, *args, area: Area, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = Area.objects.filter(pk=area.pk)
        self.fields["worker"].queryset = people_who_survey(area)


@login_required
@require_http_methods(["GET", "POST"])
def campaign_board_page(request, pk):
    campaign = get_object_or_404(campaigns_for(request.user), pk=pk)
    if request.method == "POST":
        area_id = request.POST.get("area", "")
        if not (area_id.isascii() and area_id.isdigit()):
            return refused_for(request, ValidationError(_("Choose the area whose sites are given to the worker.")))
        # Django finds no row for a number beyond the column's range (no database error).
        area = get_object_or_404(scope_for(request.user).restrict(Area.objects.all(), EDIT), pk=int(area_id))
        form = AssignForm(request.POST, area=area)
        if form.is_valid():
            chosen = campaign_assignments(campaign).filter(area=area)
            if form.cleaned_data["only_unassigned"]:
                chosen = chosen.filter(worker__isnull=True)
            try:
                campaigns.assignment_change(actor=request.user, assignments=chosen, worker=form.cleaned_data["worker"])
            except ValidationError as exc:
                return refused_for(request, exc)
            return redirect(f"{reverse('campaign-board', args=[campaign.pk])}?area={area.code}")
        return refused_for(request, ValidationError(form.errors))
    rows, totals = campaign_board(campaign, request.user)
    context = {
        "campaign": campaign,
        "rows": rows,
        "totals": totals,
        "today": timezone.localdate(),
        "may_edit": scope_for(request.user).allows_area_or_country(EDIT, campaign.area),
    }
    area = chosen_area(request)
    if area is not None:
        context["area"] = area
        context["assignments"] = (
            scope_for(request.user)
            .restrict(campaign_assignments(campaign).filter(area=area), VIEW)
            .select_related("site", "worker")
            .order_by("site__code")[:1000]
        )
        if _may_edit_area(request.user, area):
            context["assign_form"] = AssignForm(area=area, initial={"area": area.pk})
    return render(request, "campaigns/board.html", context)


def _may_edit_area(user, area: Area) -> bool:
    return scope_for(user).allows(EDIT, area)


@login_required
@require_GET
def campaign_file(request, pk, fmt):
    campaign = get_object_or_404(campaigns_for(request.user), pk=pk)
    rows, totals = campaign_board(campaign, request.user)
    body, content_type = campaign_files.render(fmt, campaign, rows, totals)
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="campaign-{campaign.pk}.{fmt}"'
    return response
