"""The job queue's upkeep (procrastinate on PostgreSQL: no other server to run).

Workers (`manage.py jobs_worker`) need only DATABASE_URL, so they can run on
other machines. Each records a heartbeat every JOBS_HEARTBEAT_SECONDS; a job still marked
running whose worker has been silent for JOBS_STALLED_SECONDS belonged to a worker that
died (killed, machine lost) and is queued again by `retry_stalled_jobs` — safe because
every job here either commits its work in one transaction or finds it already done.
Finished runs are forgotten after JOBS_KEPT_DAYS."""

import datetime as dt
import logging

from django.conf import settings
from django.db import connection
from procrastinate.contrib.django import app

log = logging.getLogger("hazards.jobs")


def worker_alive() -> bool:
    """A worker has sent its heartbeat recently (/readyz)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM procrastinate_workers WHERE last_heartbeat > now() - %s)",
            [dt.timedelta(seconds=settings.JOBS_STALLED_SECONDS)],
        )
        return cursor.fetchone()[0]


@app.periodic(cron="* * * * * */10", periodic_id="retry_stalled_jobs")
@app.task(queue="upkeep", queueing_lock="retry_stalled_jobs", pass_context=True, name="config.retry_stalled_jobs")
async def retry_stalled_jobs(context, timestamp: int) -> None:
    manager = context.app.job_manager
    for job in await manager.get_stalled_jobs(seconds_since_heartbeat=settings.JOBS_STALLED_SECONDS):
        # job_id names the run (its page's id), as every line its job writes does.
        run_id = job.task_kwargs.get("run_id", "")
        extra = {"job_id": run_id, "queue_job_id": job.id, "request_id": job.task_kwargs.get("request_id", "")}
        log.warning("job %s (%s, run %s) lost its worker: queued again", job.id, job.task_name, run_id, extra=extra)
        await manager.retry_job(job)


@app.periodic(cron="17 3 * * *", periodic_id="forget_old_jobs")
@app.task(queue="upkeep", queueing_lock="forget_old_jobs", pass_context=True, name="config.forget_old_jobs")
async def forget_old_jobs(context, timestamp: int) -> None:
    await context.app.job_manager.delete_old_jobs(nb_hours=24 * settings.JOBS_KEPT_DAYS, include_failed=True)
