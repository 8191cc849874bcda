from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("Reports")

    def ready(self):
        from accounts.derived import Audited, audited_tables
        from accounts.scope import scope_models
        from areas.signals import boundaries_reloaded
        from hazards.signals import rules_changed, sites_imported

        from .models import ReportSubmission, Target
        from .receivers import add_imported_to_summary, rebuild_summary

        sites_imported.connect(add_imported_to_summary, dispatch_uid="reports.add_imported_to_summary")
        boundaries_reloaded.connect(rebuild_summary, dispatch_uid="reports.rebuild_summary")
        rules_changed.connect(rebuild_summary, dispatch_uid="reports.rebuild_summary_by_new_rules")
        scope_models({Target: "area__path", ReportSubmission: "area__path"})
        audited_tables({"reports_target": Audited("SELECT a.path FROM areas_area a WHERE a.id = r.area_id")})
