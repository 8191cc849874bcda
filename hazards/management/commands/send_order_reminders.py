"""Send the remediation order reminders and daily digests due now (each exactly once).
Run it every hour or so from the job worker or cron; running it more often is harmless."""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from common.numbers import format_number
from hazards.reminders import send_due_reminders


class Command(BaseCommand):
    help = "Send the remediation order reminders and daily digests that are due."

    def handle(self, *args, **options):
        sent = send_due_reminders()
        self.stdout.write(
            _("%(before)s before the deadline, %(after)s after it, %(digests)s digests sent.")
            % {name: format_number(count) for name, count in sent.items()}
        )
