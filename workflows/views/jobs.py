"""Failed background jobs of the firm: the error, and a Retry or Dismiss button.

Owners and admins only: an error may quote any client's data. A job lands here
after its last automatic try (`advisoros.tenancy.tasks.run_in_organization`).
"""

from __future__ import annotations

from functools import cache

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.module_loading import import_string
from django.views.decorators.http import require_POST

from advisoros.pagination import keyset_page
from advisoros.tenancy.clock import firm_time
from advisoros.tenancy.decorators import require_role
from advisoros.tenancy.models import JobFailure, Role
from advisoros.tenancy.request import OrgRequest
from advisoros.tenancy.tasks import job_failure_dismiss, job_failure_retry

PAGE_SIZE = 25


@cache
def job_label(func: str) -> str:
    """What the job does, in words: its docstring's first line, or its name."""
    try:
        doc = import_string(func).__doc__ or ""
    except ImportError:
        doc = ""
    first = doc.strip().splitlines()[0] if doc.strip() else ""
    return first or func.rsplit(".", 1)[-1].replace("_", " ").capitalize()


def _get_failure(request: OrgRequest, failure_uuid) -> JobFailure:
    return get_object_or_404(
        JobFailure, organization=request.organization, uuid=failure_uuid
    )


@require_role(Role.ADMIN)
def job_failures(request: OrgRequest, org_slug: str) -> HttpResponse:
    # Query: one page of the open failures, newest first.
    page = keyset_page(
        JobFailure.objects.filter(organization=request.organization, resolved_at=None),
        keys=("created_at", "id"),
        descending=True,
        cursor=request.GET.get("cursor", ""),
        size=PAGE_SIZE,
    )
    for failure in page.rows:
        failure.label = job_label(failure.func)
    with firm_time(request):
        return render(request, "workflows/jobs_failed.html", {"page": page})


@require_POST
@require_role(Role.ADMIN)
def job_failure_retry_view(
    request: OrgRequest, org_slug: str, failure_uuid
) -> HttpResponse:
    failure = _get_failure(request, failure_uuid)
    if failure.resolved_at is not None:
        messages.info(request, "That job was already retried or dismissed.")
    else:
        job_failure_retry(failure=failure, by=request.user)
        messages.success(
            request,
            f"“{job_label(failure.func)}” is queued again. If it fails for good "
            "once more, it comes back to this list.",
        )
    return redirect("workflows:job_failures", org_slug=org_slug)


@require_POST
@require_role(Role.ADMIN)
def job_failure_dismiss_view(
    request: OrgRequest, org_slug: str, failure_uuid
) -> HttpResponse:
    failure = _get_failure(request, failure_uuid)
    job_failure_dismiss(failure=failure)
    messages.success(request, f"“{job_label(failure.func)}” dismissed.")
    return redirect("workflows:job_failures", org_slug=org_slug)


urlpatterns = [
    path("work/jobs/failed/", job_failures, name="job_failures"),
    path(
        "work/jobs/failed/<uuid:failure_uuid>/retry/",
        job_failure_retry_view,
        name="job_failure_retry",
    ),
    path(
        "work/jobs/failed/<uuid:failure_uuid>/dismiss/",
        job_failure_dismiss_view,
        name="job_failure_dismiss",
    ),
]
