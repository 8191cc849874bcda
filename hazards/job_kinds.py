"""The kinds of long work a person may ask for, besides imports (which have their own
pages): each is a function that writes one file, registered under a name with `job_kind`
by the app it belongs to (hazards/tasks.py: exports; reports/tasks.py: report documents).
The worker runs it for a JobRun (hazards/tasks.py) as

    function(*, actor, folder, progress, **params) -> Path

`folder` is where the file goes (the returned Path must lie in it), `progress(done,
total)` says how far it is, `params` are the JSON values given to job_queue.job_start.
The function reads through the area scope of `actor`, as it is when the job runs. A
refusal a person can act on is raised as JobError; anything else is an unexpected failure,
logged with its traceback."""

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.functional import Promise


class JobError(Exception):
    """The work cannot be done for a reason the person who asked can act on."""


@dataclass(frozen=True)
class JobKind:
    name: str
    label: str | Promise  # what its page calls it
    function: Callable


KINDS: dict[str, JobKind] = {}


def job_kind(name: str, label: str | Promise):
    def register(function: Callable) -> Callable:
        KINDS[name] = JobKind(name=name, label=label, function=function)
        return function

    return register
