from django.db import migrations

# A closure changes what counts only from the closing date on: keep the results of
# earlier dates instead of recomputing every past period after each closure.
SQL = r"""
CREATE OR REPLACE FUNCTION reports_site_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    first_affected date;
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
    IF TG_OP = 'INSERT' THEN
        first_affected := NEW.active_from;
    ELSIF TG_OP = 'DELETE' THEN
        first_affected := OLD.active_from;
    ELSIF (OLD.area_id, OLD.is_temporary, OLD.deep_water, OLD.deleted_at, OLD.active_from)
          IS DISTINCT FROM (NEW.area_id, NEW.is_temporary, NEW.deep_water, NEW.deleted_at, NEW.active_from) THEN
        first_affected := least(OLD.active_from, NEW.active_from);
    ELSIF OLD.closed_at IS DISTINCT FROM NEW.closed_at THEN
        first_affected := least(coalesce(OLD.closed_at, 'infinity'::date), coalesce(NEW.closed_at, 'infinity'::date));
    END IF;
    IF first_affected IS NOT NULL THEN
        DELETE FROM reports_asofresult WHERE day >= first_affected;
    END IF;
    RETURN NULL;
END
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("reports", "0003_national_asof_results")]

    operations = [migrations.RunSQL(SQL, migrations.RunSQL.noop)]
