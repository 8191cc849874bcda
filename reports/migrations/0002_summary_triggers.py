from django.db import migrations

# The current-state summary (reports_areaday) follows every site change: the site's old
# contribution is taken away from its area and every ancestor, the new one added.
# As-of results are dropped when something they depend on changes on or before their date.
SQL = r"""
CREATE OR REPLACE FUNCTION area_ancestor_paths(path text) RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(array_agg(substr(path, 1, pos) ORDER BY pos), '{}')
    FROM generate_series(2, length(path)) AS pos
    WHERE substr(path, pos, 1) = '/'
$$;

CREATE OR REPLACE FUNCTION reports_summary_add(s hazards_site, sign integer) RETURNS void LANGUAGE sql AS $$
    INSERT INTO reports_areaday (area_id, is_temporary, day, counting, signed, fenced, protected, with_photo)
    SELECT a.id,
           s.is_temporary,
           coalesce((s.last_checked_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date, DATE '0001-01-01'),
           sign,
           sign * (s.signage = 'in_place')::int,
           sign * (s.barrier = 'complete')::int,
           sign * (s.signage = 'in_place' AND s.barrier = 'complete')::int,
           sign * s.photo_evidence::int
    FROM mapping_area own
    JOIN mapping_area a ON a.path = ANY (area_ancestor_paths(own.path))
    WHERE own.id = s.area_id AND s.deep_water AND s.closed_at IS NULL AND s.deleted_at IS NULL
    ON CONFLICT (area_id, is_temporary, day) DO UPDATE SET
        counting = reports_areaday.counting + EXCLUDED.counting,
        signed = reports_areaday.signed + EXCLUDED.signed,
        fenced = reports_areaday.fenced + EXCLUDED.fenced,
        protected = reports_areaday.protected + EXCLUDED.protected,
        with_photo = reports_areaday.with_photo + EXCLUDED.with_photo
$$;

CREATE OR REPLACE FUNCTION reports_site_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND
       (OLD.area_id, OLD.is_temporary, OLD.last_checked_at, OLD.signage, OLD.barrier, OLD.photo_evidence,
        OLD.deep_water, OLD.closed_at, OLD.deleted_at, OLD.active_from)
       IS NOT DISTINCT FROM
       (NEW.area_id, NEW.is_temporary, NEW.last_checked_at, NEW.signage, NEW.barrier, NEW.photo_evidence,
        NEW.deep_water, NEW.closed_at, NEW.deleted_at, NEW.active_from) THEN
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        PERFORM reports_summary_add(OLD, -1);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM reports_summary_add(NEW, 1);
    END IF;
    -- A site's lifecycle (not its current state) changes what past dates count.
    IF TG_OP = 'INSERT' THEN
        DELETE FROM reports_asofresult WHERE day >= NEW.active_from;
    ELSIF TG_OP = 'DELETE' THEN
        DELETE FROM reports_asofresult WHERE day >= OLD.active_from;
    ELSIF (OLD.area_id, OLD.is_temporary, OLD.deep_water, OLD.closed_at, OLD.deleted_at, OLD.active_from)
          IS DISTINCT FROM
          (NEW.area_id, NEW.is_temporary, NEW.deep_water, NEW.closed_at, NEW.deleted_at, NEW.active_from) THEN
        DELETE FROM reports_asofresult WHERE day >= least(OLD.active_from, NEW.active_from);
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION reports_inspection_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM reports_asofresult
    WHERE day >= (least(
        CASE WHEN TG_OP <> 'INSERT' THEN OLD.observed_at END,
        CASE WHEN TG_OP <> 'DELETE' THEN NEW.observed_at END
    ) AT TIME ZONE 'Asia/Ho_Chi_Minh')::date;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION reports_photo_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM reports_asofresult
    WHERE day >= (SELECT (observed_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date FROM hazards_inspection WHERE id = NEW.inspection_id);
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION reports_rebuild_summary() RETURNS void LANGUAGE sql AS $$
    TRUNCATE reports_areaday;
    INSERT INTO reports_areaday (area_id, is_temporary, day, counting, signed, fenced, protected, with_photo)
    SELECT a.id, s.is_temporary,
           coalesce((s.last_checked_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date, DATE '0001-01-01'),
           count(*),
           count(*) FILTER (WHERE s.signage = 'in_place'),
           count(*) FILTER (WHERE s.barrier = 'complete'),
           count(*) FILTER (WHERE s.signage = 'in_place' AND s.barrier = 'complete'),
           count(*) FILTER (WHERE s.photo_evidence)
    FROM hazards_site s
    JOIN mapping_area own ON own.id = s.area_id
    JOIN mapping_area a ON a.path = ANY (area_ancestor_paths(own.path))
    WHERE s.deep_water AND s.closed_at IS NULL AND s.deleted_at IS NULL
    GROUP BY 1, 2, 3;
    TRUNCATE reports_asofresult;
$$;

CREATE TRIGGER hazards_site_summary AFTER INSERT OR UPDATE OR DELETE ON hazards_site
    FOR EACH ROW EXECUTE FUNCTION reports_site_changed();
CREATE TRIGGER hazards_inspection_asof AFTER INSERT OR UPDATE OR DELETE ON hazards_inspection
    FOR EACH ROW EXECUTE FUNCTION reports_inspection_changed();
CREATE TRIGGER hazards_photo_asof AFTER INSERT ON hazards_photo
    FOR EACH ROW EXECUTE FUNCTION reports_photo_added();
CREATE TRIGGER reports_target_audit AFTER INSERT OR UPDATE OR DELETE ON reports_target
    FOR EACH ROW EXECUTE FUNCTION registry_audit('target', '{updated_at}');
SELECT reports_rebuild_summary();
"""

REVERSE = r"""
DROP TRIGGER reports_target_audit ON reports_target;
DROP TRIGGER hazards_photo_asof ON hazards_photo;
DROP TRIGGER hazards_inspection_asof ON hazards_inspection;
DROP TRIGGER hazards_site_summary ON hazards_site;
DROP FUNCTION reports_rebuild_summary();
DROP FUNCTION reports_photo_added();
DROP FUNCTION reports_inspection_changed();
DROP FUNCTION reports_site_changed();
DROP FUNCTION reports_summary_add(hazards_site, integer);
DROP FUNCTION area_ancestor_paths(text);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0001_targets_and_summaries"),
        ("hazards", "0005_photo_evidence_and_live_index"),
        ("accounts", "0003_audit_triggers"),
    ]

    operations = [migrations.RunSQL(SQL, REVERSE)]
