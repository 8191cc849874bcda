from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MappingConfig(AppConfig):
    name = "mapping"
    verbose_name = _("Maps")

    def ready(self):
        from areas.signals import boundaries_reloaded

        from .receivers import rebuild_cells

        boundaries_reloaded.connect(rebuild_cells, dispatch_uid="mapping.rebuild_cells")
