"""The firm's state against the FTC Safeguards Rule's testable items.

Each check returns a `Safeguard`: OK or needs attention, one line saying why,
and where to fix it. Checks that depend on parts other work replaces are kept
to one thin function each, so they can be swapped without touching the page:
`audit_chain_state` (the audit chain), `last_export_for` (the firm's export),
`scanner_socket` (the virus scanner).
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Exists, F, OuterRef
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from advisoros.audit.chain import chain_verify
from advisoros.audit.models import AuditEvent
from advisoros.tenancy.models import AccessReview, Membership, Organization

# Reviews older than this ask for a new one (quarterly, as SOC 2 auditors expect).
ACCESS_REVIEW_EVERY = timedelta(days=90)
# The page verifies the chain itself up to this many events; beyond, the count
# is shown and `manage.py audit_verify` does the walk.
CHAIN_VERIFY_ON_PAGE = 5000


@dataclass(frozen=True)
class Safeguard:
    key: str
    title: str
    ok: bool
    reason: str
    fix_url: str = ""
    fix_label: str = ""
    detail: tuple[str, ...] = ()  # e.g. the members without two-factor


@dataclass(frozen=True)
class ChainState:
    events: int
    intact: bool | None  # None: too long to walk on a page
    problem: str = ""


def safeguards(organization: Organization) -> list[Safeguard]:
    """Every item, in the page's order. Queries: members with their two-factor
    state (1), the audit chain (2: count, then the events when few enough), the
    last access review (1)."""
    slug = organization.slug
    return [
        two_factor_coverage(organization),
        tax_id_encryption(),
        file_encryption(),
        audit_logging(organization),
        access_review(organization),
        firm_export(organization, slug),
        virus_scanning(),
    ]


def _url(name: str, slug: str) -> str:
    return reverse(name, kwargs={"org_slug": slug})


def two_factor_coverage(organization: Organization) -> Safeguard:
    members = list(
        Membership.objects.filter(organization=organization, is_active=True)
        .annotate(
            two_factor=Exists(
                TOTPDevice.objects.filter(user=OuterRef("user"), confirmed=True)
            ),
            name=F("user__name"),
            email=F("user__email"),
        )
        .order_by("user__name", "user__email")
        .values("name", "email", "two_factor")
    )
    without = [m["name"] or m["email"] for m in members if not m["two_factor"]]
    url = _url("tenancy:members", organization.slug)
    if not without:
        reason = f"All {len(members)} active members sign in with two-factor."
        if organization.require_two_factor:
            reason += " The firm requires it."
        return Safeguard("two_factor", "Two-factor sign-in", True, reason)
    reason = (
        f"{len(without)} of {len(members)} active members sign in without two-factor."
    )
    if not organization.require_two_factor:
        reason += " Require it for everyone in firm settings."
        url = _url("tenancy:settings", organization.slug)
    return Safeguard(
        "two_factor",
        "Two-factor sign-in",
        False,
        reason,
        url,
        "Require two-factor" if not organization.require_two_factor else "Members",
        tuple(without),
    )


def _development_key() -> str:
    """The key settings derives from SECRET_KEY when none is configured."""
    digest = hashlib.sha256(settings.SECRET_KEY.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


def tax_id_encryption() -> Safeguard:
    title = "Tax ids encrypted"
    algorithm = "Fernet (AES-128-CBC with HMAC-SHA256)"
    if list(settings.FIELD_ENCRYPTION_KEYS) == [_development_key()]:
        return Safeguard(
            "tax_ids",
            title,
            False,
            f"Encrypted with {algorithm}, but with the development key derived from "
            "the secret key: whoever runs AdvisorOS must set FIELD_ENCRYPTION_KEYS.",
        )
    return Safeguard(
        "tax_ids",
        title,
        True,
        f"Encrypted with {algorithm}; the key lives in the server's environment, "
        "never in the database. Pages show the last four digits only.",
    )


def file_encryption() -> Safeguard:
    title = "Files encrypted at rest"
    storage = settings.STORAGES["default"]
    if storage["BACKEND"] == "storages.backends.s3.S3Storage":
        sse = (
            storage["OPTIONS"].get("object_parameters", {}).get("ServerSideEncryption")
        )
        if sse:
            return Safeguard(
                "files",
                title,
                True,
                f"Documents are stored in S3 with server-side encryption ({sse}).",
            )
        return Safeguard(
            "files",
            title,
            False,
            "Documents are stored in S3 without server-side encryption requested "
            "(S3_ENCRYPT is off): whoever runs AdvisorOS must switch it on.",
        )
    return Safeguard(
        "files",
        title,
        False,
        "Documents are stored on the server's own disk; AdvisorOS does not encrypt "
        "them and cannot see whether the disk is encrypted. Ask whoever runs "
        "AdvisorOS to confirm disk encryption, or to store files in S3.",
    )


def audit_chain_state(organization: Organization) -> ChainState:
    """The firm's audit chain: walked here while short, else counted only.

    One function on purpose: the chain's keying and checkpoints are reworked
    elsewhere, and this is the one place the page asks about it."""
    events = AuditEvent.objects.filter(organization=organization)
    count = events.count()
    if count > CHAIN_VERIFY_ON_PAGE:
        return ChainState(count, None)
    report = chain_verify(
        events.order_by(F("sequence").asc(nulls_last=True), "id"), organization.pk
    )
    return ChainState(count, report.intact, report.problem)


def audit_logging(organization: Organization) -> Safeguard:
    title = "Activity logged"
    url = _url("audit:log", organization.slug)
    state = audit_chain_state(organization)
    if state.intact is False:
        return Safeguard(
            "logging",
            title,
            False,
            f"The audit trail's chain is broken: {state.problem}",
            url,
            "Audit log",
        )
    checked = (
        "its hash chain is intact"
        if state.intact
        else "the chain is checked by manage.py audit_verify"
    )
    return Safeguard(
        "logging",
        title,
        True,
        f"The audit trail is on: {state.events} events recorded, {checked}.",
        url,
        "Audit log",
    )


def last_access_review(organization: Organization) -> AccessReview | None:
    return (
        AccessReview.objects.filter(organization=organization)
        .select_related("reviewed_by")
        .first()
    )


def access_review(organization: Organization) -> Safeguard:
    title = "Access reviewed"
    review = last_access_review(organization)
    if review is None:
        return Safeguard(
            "access_review",
            title,
            False,
            "Nobody has recorded a review of who has access yet.",
            "#access-review",
            "Record a review",
        )
    who = review.reviewed_by.name if review.reviewed_by else "a former member"
    when = timezone.localdate(review.created_at)
    reason = f"Last reviewed on {when:%B %-d, %Y} by {who}."
    if timezone.now() - review.created_at > ACCESS_REVIEW_EVERY:
        return Safeguard(
            "access_review",
            title,
            False,
            reason + f" Review again every {ACCESS_REVIEW_EVERY.days} days.",
            "#access-review",
            "Record a review",
        )
    return Safeguard("access_review", title, True, reason)


def last_export_for(organization: Organization) -> datetime | None:
    """When the firm's data was last exported in full (a finished export)."""
    from advisoros.tenancy.models import FirmExport

    return (
        FirmExport.objects.filter(organization=organization, finished_at__isnull=False)
        .exclude(status=FirmExport.Status.FAILED)
        .order_by("-finished_at")
        .values_list("finished_at", flat=True)
        .first()
    )


def firm_export(organization: Organization, slug: str) -> Safeguard:
    title = "Data exported"
    exported = last_export_for(organization)
    url = _url("tenancy:exports", slug)
    if exported is None:
        return Safeguard(
            "export",
            title,
            False,
            "No export yet: keep a copy of the firm's data of your own.",
            url,
            "Firm data",
        )
    return Safeguard(
        "export",
        title,
        True,
        f"Last full export on {timezone.localdate(exported):%B %-d, %Y}.",
        url,
        "Firm data",
    )


def scanner_socket() -> str:
    """Where clamd listens, or "" when no scanner is configured."""
    return getattr(settings, "CLAMD_SOCKET", "") or ""


def virus_scanning() -> Safeguard:
    title = "Uploads scanned for viruses"
    socket = scanner_socket()
    if not socket:
        return Safeguard(
            "scanner",
            title,
            False,
            "Not configured: uploads are not scanned. Whoever runs AdvisorOS "
            "must set CLAMD_SOCKET.",
        )
    return Safeguard(
        "scanner", title, True, f"Uploads are scanned by ClamAV ({socket})."
    )
