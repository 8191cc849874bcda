from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MappingConfig(AppConfig):
    name = "mapping"
    verbose_name = _("Maps")

    def ready(self):
        from django.db.backends.signals import connection_created

        from accounts.scope import scope_models
        from areas.signals import boundaries_reloaded
        from common.navigation import MENU, Link, offer
        from hazards.signals import IMPORTED, rules_changed, sites_imported

        from .models import SiteCell, SiteStateCell
        from .receivers import add_imported_to_cells, rebuild_cells
        from .tiles import prepare_tile_statements

        # Here, not where the tiles are first imported: every connection, the first too.
        connection_created.connect(prepare_tile_statements, dispatch_uid="mapping.prepare_tile_statements")

        boundaries_reloaded.connect(rebuild_cells, dispatch_uid="mapping.rebuild_cells")
        rules_changed.connect(rebuild_cells, dispatch_uid="mapping.rebuild_cells_by_new_rules")
        sites_imported.connect(add_imported_to_cells, dispatch_uid="mapping.add_imported_to_cells")
        scope_models({SiteCell: "area__path", SiteStateCell: "area__path"})
        offer(MENU, Link("map", _("Map"), position=10))
        offer(IMPORTED, Link("map", _("See them on the map")))
