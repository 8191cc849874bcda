"""Report documents made by the worker (a kind of hazards' jobs, hazards/job_kinds.py):
the national PDF, which reads every province and draws its pictures."""

from pathlib import Path

from django.http import Http404, QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hazards.job_kinds import JobError, job_kind

from . import files
from .forms import area_and_period
from .selectors import progress_report, trend

REPORT_PDF_JOB = "reports.report_pdf"


@job_kind(REPORT_PDF_JOB, gettext_lazy("Progress report (PDF)"))
def report_pdf(*, actor, folder: Path, progress, query: str) -> Path:
    """The report page's PDF for its query, in the asker's scope as it is when it runs."""
    try:
        _form, area, period = area_and_period(actor, QueryDict(query))
    except Http404:  # the asker lost the area meanwhile
        raise JobError(_("This area is no longer yours to report on.")) from None
    progress(0, 2)
    report = progress_report(area, period)
    progress(1, 2)
    target = folder / files.file_name(area, period, "pdf")
    target.write_bytes(files.as_pdf(report, trend(area, period)))
    return target
