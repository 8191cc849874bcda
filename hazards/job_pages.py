"""A job's page (its progress, then the file to download or why it failed), its state as
JSON for scripts, and its file. Only the person who asked sees any of them; anyone else
gets 404, as for any record out of their reach. The file is given only while its asker
still reads every area it was made from: a change of roles ends it at once, as it ends
the map's tiles and GIS clients."""

import mimetypes

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.views import APIView

from accounts.scope import scope_for
from accounts.tokens import sent_by_another_site
from common.errors import answer, error_response, error_responses, wants_page

from . import job_queue
from .job_kinds import KINDS
from .models import JobRun
from .private_files import private_file


def label(run: JobRun) -> str:
    return str(KINDS[run.kind].label) if run.kind in KINDS else run.kind


def ready(run: JobRun) -> bool:
    return run.status == JobRun.Status.DONE and bool(run.result) and not run.expired


def still_readable(request, run: JobRun) -> bool:
    return run.made_within is not None and scope_for(request.user).reads_all_of(run.made_within)


def withdrawn_message() -> str:
    return _("Your areas or roles changed since this file was made, so it is no longer given to you: ask for it again.")


def state(request, run: JobRun) -> dict:
    """What a script following a run needs."""
    given = ready(run) and still_readable(request, run)
    return {
        "id": str(run.pk),
        "kind": run.kind,
        "label": label(run),
        "status": run.status,
        "done": run.done,
        "total": run.total,
        "problem": run.problem,
        "summary": run.summary,
        "page": request.build_absolute_uri(reverse("job-page", args=[run.pk])),
        "file": request.build_absolute_uri(reverse("job-file", args=[run.pk])) if given else None,
        "file_bytes": run.result_bytes if given else None,
        "expires_at": run.expires_at.isoformat() if run.expires_at else None,
    }


def job_accepted(request, run: JobRun):
    """The answer to a request whose work became a job: a browser is sent to the run's
    page, a script gets 202 with the run's state and the address to follow."""
    if wants_page(request):
        return HttpResponseRedirect(reverse("job-page", args=[run.pk]), status=303)
    response = JsonResponse(state(request, run), status=202)
    response["Location"] = reverse("api-job", args=[run.pk])
    return response


def job_started(request, *, kind: str, params: dict) -> HttpResponse:
    """Starts the work a GET asks for (an export, a national report) and answers it. Not
    when another site's page made the browser send it with credentials it adds by itself
    (a link followed with the session cookie, an image with a cached Basic token): anyone
    could otherwise make a signed-in person's browser queue jobs (pentest N3)."""
    if sent_by_another_site(request):
        detail = _(
            "This was asked for by a link or a page on another site, so it was not started. "
            "Open the registry yourself and ask for it there."
        )
        return answer(request, 403, "another_site", detail)
    run = job_queue.job_start(actor=request.user, kind=kind, params=params, language=get_language())
    return job_accepted(request, run)


def owned_run(request, run_id) -> JobRun:
    return get_object_or_404(JobRun, pk=run_id, created_by=request.user)


@login_required
def run_page(request, run_id):
    """The run's progress while it goes (the page reloads itself), then its file."""
    run = owned_run(request, run_id)
    context = {
        "run": run,
        "label": label(run),
        "ready": ready(run),
        "withdrawn": withdrawn_message() if ready(run) and not still_readable(request, run) else "",
        "file": reverse("job-file", args=[run.pk]),
    }
    return render(request, "jobs/run.html", context)


JOB_STATE = inline_serializer(
    "JobState",
    {
        "id": serializers.UUIDField(),
        "kind": serializers.CharField(),
        "label": serializers.CharField(),
        "status": serializers.ChoiceField(JobRun.Status.choices),
        "done": serializers.IntegerField(),
        "total": serializers.IntegerField(),
        "problem": serializers.CharField(),
        "summary": serializers.CharField(),
        "page": serializers.URLField(),
        "file": serializers.URLField(allow_null=True),
        "file_bytes": serializers.IntegerField(allow_null=True),
        "expires_at": serializers.DateTimeField(allow_null=True),
    },
)


class JobRunView(APIView):
    """A job's state (/api/v1/jobs/<id>/): follow it until `status` is done or failed, then
    fetch `file`."""

    @extend_schema(responses={200: JOB_STATE})
    def get(self, request, run_id):
        return JsonResponse(state(request, owned_run(request, run_id)))


class JobFileView(APIView):
    """A job's file while it is kept (JOBS_RESULT_HOURS): 410 once expired."""

    @extend_schema(responses={(200, "application/octet-stream"): bytes, **error_responses(403, 404, 410)})
    def get(self, request, run_id):
        run = owned_run(request, run_id)
        if run.status != JobRun.Status.DONE or run.expires_at is None:  # no file (yet, or ever)
            raise Http404
        if not ready(run):
            return error_response(410, "expired", _("This file has expired: ask for it again."))
        if not still_readable(request, run):
            return error_response(403, "scope_changed", withdrawn_message())
        content_type = mimetypes.guess_type(run.file_name)[0] or "application/octet-stream"
        return private_file(run.result, content_type, download_as=run.file_name)
