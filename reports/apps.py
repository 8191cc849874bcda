from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("Reports")

    def ready(self):
        from accounts.derived import Audited, audited_tables
        from accounts.scope import scope_models
        from areas.signals import boundaries_reloaded
        from common.navigation import MENU, Link, offer
        from hazards.signals import ORDER_NOTICE, rules_changed, sites_imported

        from .models import ReportSubmission, Target
        from .receivers import add_imported_to_summary, rebuild_summary

        sites_imported.connect(add_imported_to_summary, dispatch_uid="reports.add_imported_to_summary")
        boundaries_reloaded.connect(rebuild_summary, dispatch_uid="reports.rebuild_summary")
        rules_changed.connect(rebuild_summary, dispatch_uid="reports.rebuild_summary_by_new_rules")
        scope_models({Target: "area__path", ReportSubmission: "area__path"})
        offer(MENU, Link("report", _("Reports"), position=20))
        offer(
            ORDER_NOTICE,
            Link("order-notice", "PDF", position=1, args=lambda order: [order.pk, "pdf"]),
            Link("order-notice", "DOCX", position=2, args=lambda order: [order.pk, "docx"]),
        )
        audited_tables({"reports_target": Audited("SELECT a.path FROM areas_area a WHERE a.id = r.area_id")})
