from django.db import migrations

# The current-state summary and the as-of invalidation, kept per statement from the
# transition tables instead of per row: the same arithmetic (a changed site's old
# contribution taken away from its area and every ancestor, the new one added; as-of
# results dropped from the first date a change touches), but a million-row import or
# boundary reload costs one grouped upsert, not one per row (bench/NOTES.md).

# Adds `changes` (site rows with a "sign" column: +1 to add, -1 to take away).
# Grouped by area first, then spread to the ancestors: a million sites in a few thousand
# areas need a few thousand ancestor lookups, not a million.
SUMMARY_UPSERT = """
    INSERT INTO reports_areaday AS d (area_id, is_temporary, day, counting, signed, fenced, protected, with_photo)
    SELECT a.id, g.is_temporary, g.day, sum(g.counting), sum(g.signed), sum(g.fenced), sum(g.protected),
           sum(g.with_photo)
    FROM (
        SELECT s.area_id, s.is_temporary,
               coalesce((s.last_checked_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date, DATE '0001-01-01') AS day,
               sum(s.sign) AS counting,
               sum(s.sign * (s.signage = 'in_place')::int) AS signed,
               sum(s.sign * (s.barrier = 'complete')::int) AS fenced,
               sum(s.sign * (s.signage = 'in_place' AND s.barrier = 'complete')::int) AS protected,
               sum(s.sign * s.photo_evidence::int) AS with_photo
        FROM ({changes}) s
        WHERE s.deep_water AND s.closed_at IS NULL AND s.deleted_at IS NULL
        GROUP BY 1, 2, 3
    ) g
    JOIN mapping_area own ON own.id = g.area_id
    JOIN mapping_area a ON a.path = ANY (area_ancestor_paths(own.path))
    GROUP BY 1, 2, 3
    ON CONFLICT (area_id, is_temporary, day) DO UPDATE SET
        counting = d.counting + EXCLUDED.counting,
        signed = d.signed + EXCLUDED.signed,
        fenced = d.fenced + EXCLUDED.fenced,
        protected = d.protected + EXCLUDED.protected,
        with_photo = d.with_photo + EXCLUDED.with_photo;
"""

# The first date whose as-of results the statement's changes can alter.
SITE_FIRST_AFFECTED = {
    "inserted": "SELECT min(active_from) FROM new_sites",
    "deleted": "SELECT min(active_from) FROM old_sites",
    # A site's lifecycle changes past dates from its start; a closure from its closing date.
    "updated": """
        SELECT min(CASE
            WHEN (o.area_id, o.is_temporary, o.deep_water, o.deleted_at, o.active_from)
                 IS DISTINCT FROM (n.area_id, n.is_temporary, n.deep_water, n.deleted_at, n.active_from)
                THEN least(o.active_from, n.active_from)
            WHEN o.closed_at IS DISTINCT FROM n.closed_at
                THEN least(coalesce(o.closed_at, 'infinity'::date), coalesce(n.closed_at, 'infinity'::date))
        END)
        FROM old_sites o JOIN new_sites n ON n.id = o.id
    """,
}
SITE_CHANGES = {
    "inserted": "SELECT *, 1 AS sign FROM new_sites",
    "deleted": "SELECT *, -1 AS sign FROM old_sites",
    # Only sites whose counted state changed: an edited name costs nothing.
    "updated": """
        SELECT changed.* FROM old_sites o JOIN new_sites n ON n.id = o.id,
        LATERAL (SELECT o.*, -1 AS sign UNION ALL SELECT n.*, 1) AS changed
        WHERE (o.area_id, o.is_temporary, o.last_checked_at, o.signage, o.barrier, o.photo_evidence,
               o.deep_water, o.closed_at, o.deleted_at, o.active_from)
              IS DISTINCT FROM
              (n.area_id, n.is_temporary, n.last_checked_at, n.signage, n.barrier, n.photo_evidence,
               n.deep_water, n.closed_at, n.deleted_at, n.active_from)
    """,
}
INSPECTION_TIMES = {
    "inserted": "SELECT observed_at FROM new_inspections",
    "deleted": "SELECT observed_at FROM old_inspections",
    "updated": "SELECT observed_at FROM old_inspections UNION ALL SELECT observed_at FROM new_inspections",
}
REFERENCING = {
    "inserted": ("INSERT", "NEW TABLE AS new_{rows}"),
    "updated": ("UPDATE", "OLD TABLE AS old_{rows} NEW TABLE AS new_{rows}"),
    "deleted": ("DELETE", "OLD TABLE AS old_{rows}"),
}


def _function(name: str, body: str) -> str:
    return f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n{body}\n    RETURN NULL;\nEND\n$$"


def _trigger(name: str, table: str, event: str, rows: str, function: str) -> str:
    operation, referencing = REFERENCING[event]
    return (
        f"CREATE TRIGGER {name} AFTER {operation} ON {table} REFERENCING {referencing.format(rows=rows)} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
    )


def create_sql() -> list[str]:
    statements = [
        "DROP TRIGGER hazards_site_summary ON hazards_site",
        "DROP TRIGGER hazards_inspection_asof ON hazards_inspection",
        "DROP TRIGGER hazards_photo_asof ON hazards_photo",
        "DROP FUNCTION reports_site_changed()",
        "DROP FUNCTION reports_inspection_changed()",
        "DROP FUNCTION reports_photo_added()",
    ]
    for event in REFERENCING:
        statements.append(
            _function(
                f"reports_sites_{event}",
                SUMMARY_UPSERT.format(changes=SITE_CHANGES[event])
                + f"    DELETE FROM reports_asofresult WHERE day >= ({SITE_FIRST_AFFECTED[event]});",
            )
        )
        statements.append(
            _function(
                f"reports_inspections_{event}",
                "    DELETE FROM reports_asofresult WHERE day >= "
                f"(SELECT (min(observed_at) AT TIME ZONE 'Asia/Ho_Chi_Minh')::date FROM ({INSPECTION_TIMES[event]}) t);",
            )
        )
        statements.append(
            _trigger(f"hazards_site_summary_{event}", "hazards_site", event, "sites", f"reports_sites_{event}")
        )
        statements.append(
            _trigger(
                f"hazards_inspection_asof_{event}",
                "hazards_inspection",
                event,
                "inspections",
                f"reports_inspections_{event}",
            )
        )
    statements.append(
        _function(
            "reports_photos_inserted",
            "    DELETE FROM reports_asofresult WHERE day >= (\n"
            "        SELECT (min(i.observed_at) AT TIME ZONE 'Asia/Ho_Chi_Minh')::date\n"
            "        FROM new_photos p JOIN hazards_inspection i ON i.id = p.inspection_id);",
        )
    )
    statements.append(
        _trigger("hazards_photo_asof_inserted", "hazards_photo", "inserted", "photos", "reports_photos_inserted")
    )
    # The per-row helper has no caller left.
    statements.append("DROP FUNCTION reports_summary_add(hazards_site, integer)")
    return statements


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0004_narrower_asof_invalidation"),
        ("accounts", "0006_statement_level_audit"),
    ]

    # Not reversible: the row-level functions it drops were spread over 0002 and 0004.
    operations = [migrations.RunSQL(create_sql())]
