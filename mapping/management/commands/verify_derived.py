from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts.derived import audit_gaps
from common.numbers import format_number
from hazards.current_state import current_state_differences
from mapping.derived import cell_differences
from reports.derived import kept_result_differences, summary_differences

# What is derived, in the order checked: the sites' current state first, which the
# summary and the grid count (its repair brings them along by their triggers); then what
# the triggers keep, the kept results before the summary, whose rebuild drops them all.
CHECKS = [
    (gettext_lazy("Sites' current state"), current_state_differences),
    (gettext_lazy("Report results kept for past periods"), kept_result_differences),
    (gettext_lazy("Report summary"), summary_differences),
    (gettext_lazy("Map grid"), cell_differences),
    (gettext_lazy("Audit coverage"), audit_gaps),
]


class Command(BaseCommand):
    help = (
        "Compare what is derived (each site's current state from its inspections; what the database "
        "triggers keep: the report results kept for past periods, the report summary, the map grid, "
        "the audit trail's coverage) with a full rebuild, and repair what differs."
    )

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="only compare; exit 1 when anything differs")

    def handle(self, *args, **options):
        repair = not options["check"]
        differing = 0
        with transaction.atomic():
            for name, check in CHECKS:
                found = check(repair=repair)
                differing += found
                if not found:
                    message = _("%(name)s: nothing to repair.")
                elif repair:
                    message = ngettext("%(name)s: %(n)s row repaired.", "%(name)s: %(n)s rows repaired.", found)
                else:
                    message = ngettext("%(name)s: %(n)s row to repair.", "%(name)s: %(n)s rows to repair.", found)
                self.stdout.write(message % {"name": name, "n": format_number(found)})
        if differing and not repair:
            raise CommandError(_("Derived data differ from a rebuild; run verify_derived without --check to repair."))
