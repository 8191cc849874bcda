"""What every log line is stamped with: the id of the request being served and, in the
worker, the id of the job being run and of the request that asked for it. Set by
config/observability.py (requests) and hazards/tasks.py (jobs); read by LogContextFilter,
which the logging settings put on every handler."""

import contextvars
import logging

current_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
# A job is named by its run (ImportRun, JobRun): the id its page and its queue entry's
# arguments show.
current_job_id: contextvars.ContextVar[str] = contextvars.ContextVar("job_id", default="")


class LogContextFilter(logging.Filter):
    """Adds `request_id` (and `job_id` inside a job) to every record, so a traceback names
    the request or job that raised it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", ""):
            record.request_id = current_request_id.get()
        job_id = current_job_id.get()
        if job_id and not getattr(record, "job_id", ""):
            record.job_id = job_id
        return True
