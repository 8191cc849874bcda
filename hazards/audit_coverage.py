"""How the audit's coverage check (accounts/derived.py) reads hazards' audited tables,
declared in HazardsConfig.ready(); sql/audit.sql attaches their triggers."""

from accounts.derived import Audited

OWN_AREA = "SELECT a.path FROM areas_area a WHERE a.id = r.area_id"
SITE_AREA = "SELECT a.path FROM hazards_site s JOIN areas_area a ON a.id = s.area_id WHERE s.id = r.site_id"

AUDITED = {
    "hazards_site": Audited(OWN_AREA, site="r.id", imported="r.import_entry_id IS NOT NULL"),
    # An import's first inspections are received in the moment its sites are created.
    "hazards_inspection": Audited(
        SITE_AREA,
        site="r.site_id",
        imported=(
            "EXISTS (SELECT FROM hazards_site s WHERE s.id = r.site_id AND s.import_entry_id IS NOT NULL"
            " AND s.created_at = r.received_at)"
        ),
    ),
    "hazards_photo": Audited(
        "SELECT a.path FROM hazards_inspection i JOIN hazards_site s ON s.id = i.site_id"
        " JOIN areas_area a ON a.id = s.area_id WHERE i.id = r.inspection_id",
        site="(SELECT i.site_id FROM hazards_inspection i WHERE i.id = r.inspection_id)",
    ),
    "hazards_remediationorder": Audited(SITE_AREA, site="r.site_id"),
    # A campaign for the whole country has no area.
    "hazards_campaign": Audited(OWN_AREA),
}
