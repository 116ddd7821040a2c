"""The Safeguards page: the firm's state against the FTC Safeguards Rule's
testable items (advisoros.tenancy.safeguards), and the access-review button.

Owners only: the Rule makes the firm's "qualified individual" answer for these,
and the page names members without two-factor.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from advisoros.http import get_only
from advisoros.tenancy.decorators import require_role
from advisoros.tenancy.models import Role
from advisoros.tenancy.request import OrgRequest
from advisoros.tenancy.safeguards import safeguards
from advisoros.tenancy.services import access_review_record


@require_role(Role.OWNER)
def safeguards_page(request: OrgRequest, org_slug: str) -> HttpResponse:
    if not_allowed := get_only(request):
        return not_allowed
    items = safeguards(request.organization)
    ctx = {
        # Queries: members with their two-factor state, the audit chain (count,
        # then its events), the last access review.
        "items": items,
        "attention": sum(not item.ok for item in items),
    }
    return render(request, "tenancy/safeguards.html", ctx)


@require_role(Role.OWNER)
@require_POST
def access_review_create(request: OrgRequest, org_slug: str) -> HttpResponse:
    access_review_record(
        organization=request.organization, by=request.user, request=request
    )
    messages.success(request, "Access review recorded.")
    return redirect("tenancy:safeguards", org_slug=org_slug)
