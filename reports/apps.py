from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("Reports")

    def ready(self):
        from hazards.signals import sites_imported

        from .receivers import add_imported_to_summary

        sites_imported.connect(add_imported_to_summary, dispatch_uid="reports.add_imported_to_summary")
