from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _install_rules(sender, using, **kwargs):
    from django.db import connections

    from .current_state import restate
    from .rules import install
    from .signals import rules_changed

    if install(connections[using]):
        restate(using)  # the sites' stored state, by the rule as it is now
        rules_changed.send(sender=sender, using=using)


class HazardsConfig(AppConfig):
    name = "hazards"
    verbose_name = _("Hazard sites")

    def ready(self):
        from accounts.audit_text import AUDITED_SITE, readable_records_are
        from accounts.derived import audited_tables
        from accounts.pairing import TABLET_APP
        from accounts.scope import may_import, scope_models
        from areas.signals import areas_reloaded
        from common.navigation import MENU, Link, offer

        from .audit_coverage import AUDITED
        from .models import ClosureProposal, Inspection, Photo, Site, SiteMerge
        from .models_remediation import Campaign, CampaignAssignment, RemediationOrder
        from .order_selectors import campaigns_and_restorable, orders_and_restorable
        from .receivers import reassign_sites
        from .selectors import inspections_and_restorable, photos_and_restorable, sites_and_restorable

        # Every migrate writes the rules again, so a changed TIME_ZONE reaches SQL.
        post_migrate.connect(_install_rules, sender=self)
        areas_reloaded.connect(reassign_sites, dispatch_uid="hazards.reassign_sites")
        audited_tables(AUDITED)
        offer(
            MENU,
            Link("order-list", _("Orders"), position=30),
            Link("survey", _("Survey"), position=40),
            # The import pages' own rule, so the link shows to exactly those they let in.
            Link("import-upload", _("Import"), position=50, shown=may_import),
        )
        offer(TABLET_APP, Link("survey"))
        # The audit trail names an entry's site, its record and the records its changes
        # point to, to who may see them now, as this app's pages read them; and links to a
        # site's page.
        readable_records_are(
            {
                Site: sites_and_restorable,
                Inspection: inspections_and_restorable,
                Photo: photos_and_restorable,
                RemediationOrder: orders_and_restorable,
                Campaign: campaigns_and_restorable,
            },
            sites=Site,
        )
        offer(AUDITED_SITE, Link("admin:hazards_site_change", args=lambda site_id: [site_id]))
        scope_models(
            {
                Site: "area__path",
                Inspection: "site__area__path",
                Photo: "inspection__site__area__path",
                ClosureProposal: "site__area__path",
                SiteMerge: "kept__area__path",
                RemediationOrder: "site__area__path",
                CampaignAssignment: "site__area__path",
                Campaign: "area__path",
            }
        )
