"""The job worker: procrastinate's worker with the registry's settings (config/jobs.py),
started so that everything it says is a JSON log line; procrastinate's own command
(`manage.py procrastinate worker`) prints its start and a fatal error as plain text."""

import asyncio
import logging

from django.core.management.base import BaseCommand
from procrastinate.contrib.django import app

log = logging.getLogger("hazards.jobs")


class Command(BaseCommand):
    help = "Runs queued jobs (imports, exports, reports, reminders) until stopped."

    def add_arguments(self, parser):
        parser.add_argument("--concurrency", type=int, default=1, help="jobs run at once")

    def handle(self, *args, concurrency: int, **options):
        log.info("job worker starting on all queues", extra={"concurrency": concurrency})
        try:
            with app.replace_connector(app.connector.get_worker_connector()):
                asyncio.run(self.work(concurrency))
        except Exception:
            log.exception("job worker stopped by an error")
            raise SystemExit(1) from None
        log.info("job worker stopped")

    async def work(self, concurrency: int) -> None:
        async with app.open_async():
            await app.run_worker_async(concurrency=concurrency)
