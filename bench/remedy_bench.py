"""Remediation at national scale (issue #22): a campaign started for the whole country
assigns every counting site that is unverified or not protected to a field worker of its
commune (target: under 60 s); the follow-up page, the order API and the campaign board
answer a province's manager (target: under 200 ms each); and, for information, the
report's order columns for a half-year and the tablet's site list of the busiest
commune's field worker while the national campaign runs (its order and campaign columns
are computed per site in SQL).

Set-up, once per database: one field worker per commune (so every site has someone to go
to) and orders on 5 % of the sites not protected, in every state, written by SQL as
generate.py writes the sites. References: the same sites copied by one plain INSERT ...
SELECT in psql (no worker chosen); the follow-up counts as one grouped query in psql."""

import datetime as dt

from django.db import connection, transaction
from django.db.models import Count
from django.test import Client
from django.utils import timezone

from accounts.models import Membership, Role, User, username_key
from areas.models import Area
from bench.run import Psql
from bench.users import national_user
from hazards.campaigns import campaign_sites, campaign_start
from hazards.models import Campaign, CampaignAssignment, RemediationOrder
from hazards.order_selectors import order_numbers, orders_for
from hazards.selectors import survey_site_list

WORKER_PREFIX = "bench-fw-"
ORDERS_SQL = """
INSERT INTO hazards_remediationorder (
    id, site_id, party_kind, party_name, party_phone, party_address, requirements, details, deadline,
    follow_up_id, state, opened_at, opened_by_id, reopened_count, notice_number, updated_at,
    acknowledged_at, done_at, verified_at)
SELECT gen_random_uuid(), s.id, 'household', 'Hộ ' || s.code, '', '', ARRAY['sign', 'barrier'], '',
       current_date + (random() * 60)::int - 30, w.user_id, s.state, now() - interval '20 days', NULL, 0, '', now(),
       CASE WHEN s.state <> 'open' THEN now() - interval '15 days' END,
       CASE WHEN s.state = 'done' THEN now() - interval '10 days' END,
       CASE WHEN s.state = 'verified' THEN now() - interval '5 days' END
FROM (
    -- Each order's state drawn once, so that the time of that state goes with it.
    SELECT id, area_id, code, (ARRAY['open', 'acknowledged', 'done', 'verified'])[1 + floor(random() * 4)::int] AS state
    FROM hazards_site
    WHERE deleted_at IS NULL AND state NOT IN ('protected', 'closed') AND random() < 0.05
) s
-- One follow-up worker per order, however many field workers its commune has: a site
-- takes one unverified order.
LEFT JOIN LATERAL (
    SELECT m.user_id FROM accounts_membership m
    WHERE m.area_id = s.area_id AND m.role = 'field_worker' ORDER BY m.user_id LIMIT 1
) w ON true
"""
FOLLOW_UP_REFERENCE = """
SELECT split_part(a.path, '/', 3) AS child,
       count(*) FILTER (WHERE o.state IN ('open', 'acknowledged') AND o.deadline < current_date),
       count(*) FILTER (WHERE o.state IN ('open', 'acknowledged') AND o.deadline >= current_date
                        AND o.deadline < current_date + 7),
       count(*) FILTER (WHERE o.state = 'done'),
       count(*) FILTER (WHERE o.state <> 'verified')
FROM hazards_remediationorder o JOIN hazards_site s ON s.id = o.site_id JOIN areas_area a ON a.id = s.area_id
WHERE o.deleted_at IS NULL AND a.path LIKE '{path}%'
GROUP BY 1
"""


def _field_workers() -> None:
    """One field worker per commune that has sites and none yet."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT a.id, a.code FROM areas_area a
               WHERE EXISTS (SELECT 1 FROM hazards_site s WHERE s.area_id = a.id)
                 AND NOT EXISTS (SELECT 1 FROM accounts_membership m WHERE m.area_id = a.id AND m.role = %s)""",
            [Role.FIELD_WORKER],
        )
        missing = cursor.fetchall()
    names = [f"{WORKER_PREFIX}{code}" for _id, code in missing]
    # bulk_create calls no save(), which keeps the key.
    users = User.objects.bulk_create([User(username=name, name_key=username_key(name)) for name in names])
    Membership.objects.bulk_create(
        [
            Membership(user=u, area_id=area_id, role=Role.FIELD_WORKER)
            for u, (area_id, _c) in zip(users, missing, strict=True)
        ]
    )


def _orders() -> None:
    if not RemediationOrder.objects.exists():
        with connection.cursor() as cursor:
            cursor.execute(ORDERS_SQL)
            cursor.execute("ANALYZE hazards_remediationorder")


def _province_manager():
    """A manager of the province with the most sites."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT split_part(a.path, '/', 2) FROM hazards_site s JOIN areas_area a ON a.id = s.area_id
               GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"""
        )
        province = Area.objects.get(code=cursor.fetchone()[0])
    user, _ = User.objects.get_or_create(username="bench-province-manager", defaults={"is_staff": True})
    Membership.objects.get_or_create(user=user, area=province, role=Role.AREA_MANAGER)
    return user, province


def _start_national(actor):
    today = timezone.localdate()
    return campaign_start(actor=actor, name="bench", area=None, starts_on=today, ends_on=today + dt.timedelta(days=60))


def _rolled_back(fn):
    def run():
        with transaction.atomic():
            fn()
            transaction.set_rollback(True)

    return run


def _drop(campaign: Campaign) -> None:
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM hazards_campaignassignment WHERE campaign_id = %s", [campaign.pk])
        cursor.execute("DELETE FROM hazards_campaign WHERE id = %s", [campaign.pk])


def run(*, timed, p95, psql_ms, Result):

    national = national_user()
    _field_workers()
    _orders()
    results = []

    # The campaign and its reference in turns (bench/run.py: the machine drifts), each
    # rolled back so that every run meets the same data.
    sites_sql, params = campaign_sites(None, timezone.now()).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM ({sites_sql}) s", params)
        assigned = cursor.fetchone()[0]
        copy = connection.ops.compose_sql(f"CREATE TEMP TABLE bench_copy AS {sites_sql}", params)
    start_times, reference_times = [], []
    with Psql() as psql:
        for _i in range(3):
            start_times += timed(_rolled_back(lambda: _start_national(national)), runs=1)
            psql.ms("BEGIN")
            reference_times.append(psql.ms(copy))
            psql.ms("ROLLBACK")
    reference = sorted(reference_times)[1]
    results.append(
        Result(
            f"campaign started for the whole country: {assigned:,} sites assigned to field workers",
            sorted(start_times)[len(start_times) // 2],
            p95(start_times),
            "the same sites copied by one plain CREATE TABLE AS in psql (no worker chosen)",
            reference,
            "< 60 s",
            p95(start_times) < 60_000,
        )
    )

    manager, province = _province_manager()
    client = Client(SERVER_NAME="localhost")
    client.force_login(manager)
    campaign = _start_national(national)
    try:
        follow_up_ref, _rows = psql_ms(FOLLOW_UP_REFERENCE.format(path=province.path))
        pages = [
            ("follow-up page (/orders/)", f"/orders/?area={province.code}", follow_up_ref, "the follow-up counts"),
            ("order API, first page", f"/api/v1/orders/?area={province.code}", follow_up_ref, "the follow-up counts"),
            ("campaign board", f"/campaigns/{campaign.pk}/", None, None),
        ]
        for label, url, ref_ms, ref_label in pages:

            def get(url=url):
                response = client.get(url)
                assert response.status_code == 200, (url, response.status_code)

            times = timed(get)
            results.append(
                Result(
                    f"{label} for a province's manager ({province.name}, national campaign)"
                    if "campaign" in label
                    else f"{label} for a province's manager ({province.name})",
                    sorted(times)[len(times) // 2],
                    p95(times),
                    f"{ref_label} as one grouped query in psql" if ref_label else "–",
                    ref_ms,
                    "< 200 ms",
                    p95(times) < 200,
                )
            )
        half = (dt.date(timezone.localdate().year, 1, 1), dt.date(timezone.localdate().year, 6, 30))
        times = timed(
            lambda: order_numbers(orders_for(manager, within=province.path), province.path, *half, timezone.localdate())
        )
        results.append(
            Result(
                f"report order columns (opened, overdue, verified, median days) for {province.name}, first half-year",
                sorted(times)[len(times) // 2],
                p95(times),
                "–",
                None,
                "none set (informative; the order lists its numbers link to: < 200 ms)",
                None,
            )
        )
        busiest = (
            CampaignAssignment.objects.filter(campaign=campaign, worker__isnull=False)
            .values("worker_id")
            .annotate(n=Count("pk"))
            .order_by("-n")
            .first()
        )
        worker = User.objects.get(pk=busiest["worker_id"])
        listed = survey_site_list(worker, timezone.now())
        times = timed(lambda: survey_site_list(worker, timezone.now()))
        results.append(
            Result(
                f"tablet site list of the busiest commune's field worker ({busiest['n']:,} of its sites "
                f"in the national campaign; {(len(listed.first) + len(listed.rest)) // 1024:,} KB in its two parts)",
                sorted(times)[len(times) // 2],
                p95(times),
                "–",
                None,
                "none set (informative)",
                None,
            )
        )
    finally:
        _drop(campaign)
    return results
