"""Every write to campaigns. Starting one assigns, in one SQL statement, every counting
site of the area that is unverified or not protected to a field worker of its commune;
a manager may then move sites to another worker, rename the campaign or move its window."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import act_as
from accounts.models import Role
from accounts.scope import EDIT, SURVEY, scope_for
from areas.models import Area
from common.numbers import format_number
from common.text import clean_text

from . import selectors
from .filters import protected_q
from .models_remediation import Campaign, CampaignAssignment
from .rules import Counting, Due

# Each site goes to a field worker of the deepest area above it (or its own) that has
# any; several there share its sites in turn. Workers are found per area (a few
# thousand), not per site, and the sites are written by one INSERT ... SELECT.
ASSIGN_SQL = """
WITH chosen AS MATERIALIZED ({sites}),
workers AS (
    SELECT m.user_id, a.path
    FROM accounts_membership m
    JOIN areas_area a ON a.id = m.area_id
    JOIN accounts_user u ON u.id = m.user_id
    WHERE m.role = %s AND u.is_active
),
-- MATERIALIZED: used once, this CTE would be inlined and its subquery run again for
-- every site (twice), over every worker (bench/NOTES.md).
area_workers AS MATERIALIZED (
    SELECT a.id AS area_id,
           (SELECT array_agg(w.user_id ORDER BY w.user_id) FROM workers w
            WHERE starts_with(a.path, w.path)
              AND length(w.path) = (SELECT max(length(v.path)) FROM workers v WHERE starts_with(a.path, v.path))
           ) AS workers
    FROM areas_area a
    WHERE a.id IN (SELECT DISTINCT area_id FROM chosen)
)
INSERT INTO hazards_campaignassignment (campaign_id, site_id, area_id, worker_id, protected_at_start)
SELECT %s, c.id, c.area_id,
       aw.workers[1 + (row_number() OVER (PARTITION BY c.area_id ORDER BY c.id) - 1) %% cardinality(aw.workers)],
       c.protected
FROM chosen c JOIN area_workers aw ON aw.area_id = c.area_id
"""


def campaign_sites(area: Area | None, now: dt.datetime, *, besides: Campaign | None = None):
    """The sites a campaign over `area` (None: the country) takes: counting today, and
    unverified or not protected; `besides`: those this campaign does not hold yet."""
    sites = selectors.sites_under(area)
    if besides is not None:
        sites = sites.exclude(Exists(CampaignAssignment.objects.filter(campaign=besides, site_id=OuterRef("pk"))))
    return (
        sites.filter(Counting(timezone.localdate(now)))
        .filter(~protected_q() | Due(now))
        .annotate(protected=ExpressionWrapper(protected_q(), output_field=BooleanField()))
        .values_list("id", "area_id", "protected")
        .order_by()
    )


def _clean_window(starts_on, ends_on) -> tuple[dt.date, dt.date]:
    if not isinstance(starts_on, dt.date) or not isinstance(ends_on, dt.date):
        raise ValidationError(_("Give the campaign's first and last day as dates."))
    if ends_on < starts_on:
        raise ValidationError({"ends_on": _("The campaign cannot end before it starts.")})
    if ends_on < timezone.localdate():
        raise ValidationError({"ends_on": _("The campaign's window is already over.")})
    return starts_on, ends_on


def _clean_name(name: str) -> str:
    name = clean_text(name, "name", _("name"))
    if not name:
        raise ValidationError({"name": _("Give the campaign a name (e.g. “Trước hè 2026”).")})
    if len(name) > 200:
        raise ValidationError({"name": _("At most %(limit)s characters.") % {"limit": format_number(200)}})
    return name


def _assign(campaign: Campaign, sites) -> int:
    """Give `sites` (campaign_sites) to the field workers of their communes; how many."""
    sites_sql, params = sites.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(ASSIGN_SQL.format(sites=sites_sql), [*params, Role.FIELD_WORKER, campaign.pk])
        added = cursor.rowcount
        # The planner opens the board at once: without fresh statistics PostgreSQL plans it
        # for an empty table until autovacuum comes by (bench/NOTES.md).
        cursor.execute("ANALYZE hazards_campaignassignment")
    return added


@transaction.atomic
def campaign_start(*, actor, name: str, area: Area | None, starts_on: dt.date, ends_on: dt.date) -> Campaign:
    act_as(actor)
    scope_for(actor).require_area_or_country(EDIT, area)
    name = _clean_name(name)
    starts_on, ends_on = _clean_window(starts_on, ends_on)
    campaign = Campaign.objects.create(name=name, area=area, starts_on=starts_on, ends_on=ends_on, created_by=actor)
    _assign(campaign, campaign_sites(area, timezone.now()))
    return campaign


@transaction.atomic
def campaign_update(
    *,
    actor,
    campaign: Campaign,
    name: str | None = None,
    starts_on: dt.date | None = None,
    ends_on: dt.date | None = None,
) -> int:
    """Rename a campaign or move its window (what is not given stays). Its sites stay as
    assigned, with the workers a manager gave them: the rule chose them as it started, and
    its board counts from there ("protected at the start"). So a window that has opened
    keeps its first day (the checks are counted since it), while its last day may move,
    later to extend it. A window that has not opened yet may move whole, and then the
    rule runs again for the sites it does not hold: those that counted or fell due since
    it was started join, each given to a worker of its commune. Returns how many joined."""
    act_as(actor)
    # Only the campaign's row is locked: its area is the nullable side of an outer join.
    campaign = Campaign.objects.select_for_update(of=("self",)).select_related("area").get(pk=campaign.pk)
    scope_for(actor).require_area_or_country(EDIT, campaign.area)
    before = (campaign.starts_on, campaign.ends_on)
    window = (starts_on or campaign.starts_on, ends_on or campaign.ends_on)
    opened = campaign.starts_on <= timezone.localdate()
    if opened and window[0] != campaign.starts_on:
        raise ValidationError(
            {
                "starts_on": _(
                    "The campaign opened on %(day)s and counts the checks since then: its first day stays. "
                    "Move its last day instead."
                )
                % {"day": f"{campaign.starts_on:%d/%m/%Y}"}
            }
        )
    if name is not None:
        campaign.name = _clean_name(name)
    if window != before:
        campaign.starts_on, campaign.ends_on = _clean_window(*window)
    campaign.save(update_fields=["name", "starts_on", "ends_on"])
    if not opened and campaign.starts_on != before[0]:
        return _assign(campaign, campaign_sites(campaign.area, timezone.now(), besides=campaign))
    return 0


@transaction.atomic
def assignment_change(*, actor, assignments, worker) -> int:
    """Send the given assignments (a queryset) to another field worker, who must be able
    to inspect every one of their sites. Returns how many moved."""
    act_as(actor)
    scope = scope_for(actor)
    rows = list(scope.restrict(assignments.select_related("site__area"), EDIT).select_for_update(of=("self",)))
    if not rows:
        raise ValidationError(_("No site of yours was chosen."))
    if worker is not None:
        if not worker.is_active:
            raise ValidationError({"worker": _("The field worker's account is deactivated.")})
        outside = [a.site.code for a in rows if not scope_for(worker).allows(SURVEY, a.site.area)]
        if outside:
            raise ValidationError(
                {
                    "worker": _("%(person)s does not work where these sites are: %(codes)s.")
                    % {"person": worker, "codes": ", ".join(outside[:10])}
                }
            )
    return CampaignAssignment.objects.filter(pk__in=[a.pk for a in rows]).update(worker=worker)
