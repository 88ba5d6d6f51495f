"""The page of a background job (后台任务) and the JSON its script polls. Only the person
who started a job sees it; anyone else gets 404 (processes.selectors.job_get_for)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from .models import Job
from .selectors import job_get_for
from .services.jobs import job_kind
from .states import JobStatus

#: The error table shows this many rows; the rest are counted.
ERRORS_SHOWN = 1000


def job_state(job: Job) -> dict[str, Any]:
    """What the progress bar needs (and, once finished, the outcome)."""
    return {
        "id": job.pk,
        "kind": job.kind,
        "status": job.status,
        "status_display": job.get_status_display(),
        "phase": job.phase,
        "phase_display": _(job.phase) if job.phase else "",
        "done": job.done,
        "total": job.total,
        "percent": job.percent,
        "finished": job.finished,
        "result": job.result,
        "errors": job.errors,
    }


@login_required
@require_GET
def job_detail(request, pk):
    """The job's page: a live progress bar while it runs; the result or the errors after."""
    job = job_get_for(request.user, pk)
    kind = job_kind(job.kind)
    result = [(label, job.result[key]) for key, label in kind.result_labels.items() if key in job.result]
    return render(
        request,
        "processes/jobs/detail.html",
        {
            "job": job,
            "kind": kind,
            "state": job_state(job),
            "result": result,
            "errors": job.errors[:ERRORS_SHOWN],
            "errors_hidden": max(len(job.errors) - ERRORS_SHOWN, 0),
            "succeeded": job.status == JobStatus.SUCCEEDED,
        },
    )


@login_required
@require_GET
def job_progress(request, pk):
    """The job's state as JSON (polled by static/js/job_progress.js)."""
    response = JsonResponse(job_state(job_get_for(request.user, pk)))
    response["Cache-Control"] = "no-store"
    return response
