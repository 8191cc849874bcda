"""Send the remediation order reminders and daily digests due now (each exactly once).
Run it every hour or so from the job worker or cron; running it more often is harmless."""

from django.core.management.base import BaseCommand

from hazards.reminders import send_due_reminders


class Command(BaseCommand):
    help = "Send the remediation order reminders and daily digests that are due."

    def handle(self, *args, **options):
        sent = send_due_reminders()
        self.stdout.write(
            f"{sent['before']} before the deadline, {sent['after']} after it, {sent['digests']} digests sent."
        )
