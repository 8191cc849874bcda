"""Report documents made by the worker (a kind of hazards' jobs, hazards/job_kinds.py):
the national report as a document (PDF or DOCX), which reads every province."""

from pathlib import Path

from django.http import QueryDict
from django.utils.translation import gettext_lazy

from hazards.job_kinds import JobError, job_kind

from . import documents, files
from .forms import ReportForm
from .orders import order_table
from .selectors import progress_report

REPORT_DOCUMENT_JOB = "reports.report_document"


@job_kind(REPORT_DOCUMENT_JOB, gettext_lazy("Progress report (document)"))
def report_document(*, actor, folder: Path, progress, query: str, fmt: str) -> Path:
    """The report page's document for its query, in the asker's scope as it is when it runs."""
    form = ReportForm(QueryDict(query), user=actor)
    if not form.is_valid():  # the asker lost the area meanwhile, say
        raise JobError(" ".join(str(e) for errors in form.errors.values() for e in errors))
    area, period = form.cleaned_data["area"], form.cleaned_data["period"]
    progress(0, 2)
    report = progress_report(area, period)
    progress(1, 2)
    target = folder / files.file_name(area, period, fmt)
    target.write_bytes(documents.render(documents.for_report(report, order_table(area, period, actor)), fmt))
    return target
