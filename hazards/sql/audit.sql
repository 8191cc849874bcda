-- Hazards' tables in the audit trail (accounts/sql/audit.sql: registry_audit writes the
-- entries, registry_audit_attach their triggers). Each entry names the site its record
-- concerns and is filed under that site's area; a campaign under its own area (none for
-- the whole country). A site's and an order's updated_at are left out: they change with
-- every save. Applied by hazards 0028 after accounts 0023; hazards/audit_coverage.py
-- tells the coverage check (verify_derived) how to read the same tables.
DO $$
DECLARE
    -- The area of a record that concerns a site is its site's: one join, for a batch of
    -- inspections as for one.
    site_area CONSTANT text := 'LEFT JOIN hazards_site s ON s.id = c.site LEFT JOIN areas_area a ON a.id = s.area_id';
BEGIN
    PERFORM registry_audit_attach('hazards_site', '{updated_at}', site => $q$(c.record ->> 'id')::uuid$q$);
    PERFORM registry_audit_attach(
        'hazards_inspection', site => $q$(c.record ->> 'site_id')::uuid$q$, joins => site_area);
    PERFORM registry_audit_attach(
        'hazards_photo',
        site => $q$(SELECT i.site_id FROM hazards_inspection i WHERE i.id = (c.record ->> 'inspection_id')::uuid)$q$,
        joins => site_area);
    PERFORM registry_audit_attach(
        'hazards_remediationorder', '{updated_at}', site => $q$(c.record ->> 'site_id')::uuid$q$, joins => site_area);
    PERFORM registry_audit_attach('hazards_campaign');
END
$$;
