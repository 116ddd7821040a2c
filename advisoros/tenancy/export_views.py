"""The firm's data page (owners only): full exports, their download links, and
offboarding (deactivate, schedule or cancel the deletion).

An export holds every client's tax id in plain text, so every page and action
here needs the owner role, and a download link is signed for the member who
opened the page and valid for `LINK_SECONDS` (on S3 the file itself then comes
from a presigned link valid for one minute).
"""

from __future__ import annotations

from django.contrib import messages
from django.core import signing
from django.core.files.storage import FileSystemStorage
from django.http import (
    FileResponse,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST

from advisoros.audit.models import AuditAction
from advisoros.audit.services import audit_event_record
from advisoros.tenancy import offboarding
from advisoros.tenancy.decorators import require_role
from advisoros.tenancy.export import EXPORT_KEEP_DAYS, firm_export_start
from advisoros.tenancy.models import FirmExport, Role
from advisoros.tenancy.offboarding import open_when_deactivated
from advisoros.tenancy.plans import platform_billing_on
from advisoros.tenancy.request import OrgRequest

LINK_SECONDS = 15 * 60
LINK_SALT = "advisoros.tenancy.firm_export_download"
LIST_SIZE = 50


def download_token(export: FirmExport, user_id: int) -> str:
    return signing.dumps({"e": str(export.uuid), "u": user_id}, salt=LINK_SALT)


def _token_valid(token: str, export: FirmExport, user_id: int) -> bool:
    try:
        data = signing.loads(token, salt=LINK_SALT, max_age=LINK_SECONDS)
    except signing.BadSignature:  # SignatureExpired included
        return False
    return data == {"e": str(export.uuid), "u": user_id}


def _get_export(request: OrgRequest, export_uuid) -> FirmExport:
    return get_object_or_404(
        FirmExport, organization=request.organization, uuid=export_uuid
    )


def _back(request: OrgRequest) -> HttpResponse:
    return redirect("tenancy:exports", org_slug=request.organization.slug)


@require_role(Role.OWNER)
def firm_exports(request: OrgRequest, org_slug: str) -> HttpResponse:
    # Query: the newest exports with who asked for each (one join).
    exports = list(
        FirmExport.objects.filter(organization=request.organization)
        .select_related("created_by")
        .order_by("-created_at", "-id")[:LIST_SIZE]
    )
    for export in exports:
        if export.status == FirmExport.Status.READY:
            export.download_url = (
                reverse(
                    "tenancy:export_download",
                    kwargs={"org_slug": org_slug, "export_uuid": export.uuid},
                )
                + "?t="
                + download_token(export, request.user.pk)
            )
    ctx = {
        "exports": exports,
        "keep_days": EXPORT_KEEP_DAYS,
        "link_minutes": LINK_SECONDS // 60,
        "deletion_days": offboarding.DELETION_DELAY_DAYS,
        # Leaving does not stop the firm's subscription to AdvisorOS: said here.
        "billing_on": platform_billing_on(),
    }
    return render(request, "tenancy/exports.html", ctx)


@open_when_deactivated
@require_POST
@require_role(Role.OWNER)
def firm_export_create(request: OrgRequest, org_slug: str) -> HttpResponse:
    firm_export_start(organization=request.organization, by=request.user)
    messages.success(
        request,
        "The export is being built. Reload this page in a few minutes to download it.",
    )
    return _back(request)


@open_when_deactivated
@require_role(Role.OWNER)
def firm_export_download(request: OrgRequest, org_slug: str, export_uuid):
    export = _get_export(request, export_uuid)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    if export.status != FirmExport.Status.READY or not export.file:
        messages.error(request, "That export is not ready or no longer kept.")
        return _back(request)
    if not _token_valid(request.GET.get("t", ""), export, request.user.pk):
        messages.error(
            request,
            f"That download link has expired (links last {LINK_SECONDS // 60} "
            "minutes). Use the Download button again.",
        )
        return _back(request)
    filename = f"{request.organization.slug}-export-{timezone.localdate(export.created_at)}.zip"
    storage = export.file.storage
    if isinstance(storage, FileSystemStorage):
        response = FileResponse(
            storage.open(export.file.name, "rb"),
            as_attachment=True,
            filename=filename,
            content_type="application/zip",
        )
    else:
        response = HttpResponseRedirect(
            storage.url(
                export.file.name,
                parameters={
                    "ResponseContentDisposition": content_disposition_header(
                        True, filename
                    ),
                    "ResponseContentType": "application/zip",
                    "ResponseCacheControl": "private, no-store",
                },
                expire=60,
            )
        )
    response["Cache-Control"] = "private, no-store"
    audit_event_record(
        action=AuditAction.FIRM_EXPORT_DOWNLOADED,
        organizations=[request.organization],
        actor=request.user,
        target=str(export.uuid),
        request=request,
        detail={"size": export.size, "sha256": export.sha256},
    )
    return response


@require_POST
@require_role(Role.OWNER)
def firm_deactivate_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    offboarding.firm_deactivate(
        organization=request.organization, by=request.user, request=request
    )
    messages.success(
        request,
        f"{request.organization.name} is deactivated: everyone can still read and "
        "export, nobody can change anything.",
    )
    return _back(request)


@open_when_deactivated
@require_POST
@require_role(Role.OWNER)
def firm_reactivate_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    offboarding.firm_reactivate(
        organization=request.organization, by=request.user, request=request
    )
    messages.success(request, f"{request.organization.name} is active again.")
    return _back(request)


@open_when_deactivated
@require_POST
@require_role(Role.OWNER)
def firm_deletion_schedule_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    organization = request.organization
    if organization.deactivated_at is None:
        messages.error(request, "Deactivate the firm before scheduling its deletion.")
    elif request.POST.get("confirm_slug", "").strip() != organization.slug:
        messages.error(
            request, f"Type the firm's address, {organization.slug}, to confirm."
        )
    else:
        offboarding.firm_deletion_schedule(
            organization=organization, by=request.user, request=request
        )
        messages.success(
            request,
            f"{organization.name}'s data will be deleted on "
            f"{timezone.localdate(organization.deletion_scheduled_for):%B %-d, %Y}.",
        )
    return _back(request)


@open_when_deactivated
@require_POST
@require_role(Role.OWNER)
def firm_deletion_cancel_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    offboarding.firm_deletion_cancel(
        organization=request.organization, by=request.user, request=request
    )
    messages.success(request, "The deletion is cancelled.")
    return _back(request)
