"""QuickBooks pages: the firm's connection page and its buttons (owners and
admins), the OAuth return from Intuit, and Intuit's webhook (no session)."""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.csp import CSP
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from advisoros.email import absolute_url
from advisoros.forms import error_text
from advisoros.tenancy.decorators import require_role
from advisoros.tenancy.models import Role
from advisoros.tenancy.request import OrgRequest
from clients.models import Client
from integrations.quickbooks.models import (
    ConnectionKind,
    QuickBooksConnection,
    SyncIssue,
    SyncRun,
    WebhookEvent,
)
from integrations.quickbooks.oauth import (
    AuthClientError,
    authorization_origin,
    intuit_enabled,
)
from integrations.quickbooks.services import (
    WRONG_STATE,
    connect_finish,
    connect_start,
    connection_disconnect,
    pending_connect,
)
from integrations.quickbooks.webhooks import webhook_receive

logger = logging.getLogger(__name__)

RECENT = 10


def _back(request: OrgRequest) -> HttpResponse:
    return redirect("quickbooks:connection", org_slug=request.organization.slug)


@require_role(Role.ADMIN)
@require_GET
def quickbooks_connection(request: OrgRequest, org_slug: str) -> HttpResponse:
    organization = request.organization
    # Query: the firm's connections (its own books first), with their clients
    # and who connected them.
    connections = list(
        QuickBooksConnection.objects.filter(organization=organization)
        .select_related("client", "connected_by")
        .order_by("kind", "client__sort_name", "pk")
    )
    firm = next((c for c in connections if c.kind == ConnectionKind.FIRM), None)
    clients = [c for c in connections if c.kind == ConnectionKind.CLIENT]
    # Query: each client ledger's latest pull.
    pulls = {
        run.connection_id: run
        for run in SyncRun.objects.filter(
            organization=organization, connection__kind=ConnectionKind.CLIENT
        )
        .order_by("connection_id", "-started_at", "-pk")
        .distinct("connection_id")
    }
    for connection in clients:
        connection.last_pull = pulls.get(connection.pk)
    warn_days = settings.QUICKBOOKS_EXPIRY_WARNING_DAYS
    runs = list(
        # Query: the latest sync runs of every connection (the health table).
        SyncRun.objects.filter(organization=organization)
        .select_related("connection__client")
        .order_by("-started_at", "-pk")[:RECENT]
    )
    # Query: the sync's open conflicts and errors, counted by kind.
    open_issues = dict(
        SyncIssue.objects.filter(
            organization=organization, status=SyncIssue.Status.OPEN
        )
        .values_list("kind")
        .annotate(n=Count("pk"))
        .order_by()
    )
    ctx = {
        "enabled": intuit_enabled(),
        "webhooks_enabled": bool(settings.INTUIT_WEBHOOK_VERIFIER),
        "firm_connection": firm,
        "client_connections": clients,
        # The client's code when the client's Ledger tab sent the person here.
        "client_code": request.GET.get("client_code", "")[:20],
        "warn_days": warn_days,
        "expiring": {c.pk for c in connections if c.expires_within(warn_days)},
        "runs": runs,
        "last_firm_run": next(
            (r for r in runs if firm and r.connection_id == firm.pk), None
        ),
        "open_conflicts": open_issues.get(SyncIssue.Kind.CONFLICT, 0),
        "open_errors": open_issues.get(SyncIssue.Kind.ERROR, 0),
        # Query: the latest events Intuit sent.
        "events": list(
            WebhookEvent.objects.filter(organization=organization)
            .only("type", "entity_id", "status", "created_at", "error")
            .order_by("-created_at", "-pk")[:RECENT]
        ),
        "webhook_url": absolute_url(reverse("quickbooks_public:webhook")),
        "redirect_uri": settings.INTUIT_REDIRECT_URI
        or absolute_url(reverse("quickbooks_public:oauth_return")),
    }
    response = render(request, "integrations/quickbooks/connection.html", ctx)
    # The Connect buttons' forms are answered with a redirect to Intuit.
    response._csp_config = {
        **settings.SECURE_CSP,
        "form-action": [CSP.SELF, authorization_origin()],
    }
    return response


@require_POST
@require_role(Role.ADMIN)
def quickbooks_connect(request: OrgRequest, org_slug: str) -> HttpResponse:
    """Off to Intuit's consent page for the firm's books, or a client's."""
    if not intuit_enabled():
        messages.error(request, "QuickBooks is not turned on for this installation.")
        return _back(request)
    client = None
    if request.POST.get("target") == "client":
        code = request.POST.get("client_code", "").strip()
        # Query: the client, in this firm only.
        client = Client.objects.filter(
            organization=request.organization, client_code__iexact=code
        ).first()
        if client is None:
            messages.error(request, f"No client has the code “{code[:20]}”.")
            return _back(request)
    try:
        url = connect_start(
            session=request.session,
            organization=request.organization,
            by=request.user,
            client=client,
        )
    except (AuthClientError, OSError) as exc:
        logger.warning("Intuit's discovery document not read: %s", exc)
        messages.error(request, "Intuit could not be reached. Try again shortly.")
        return _back(request)
    return redirect(url)


@require_GET
def quickbooks_oauth_return(request: HttpRequest) -> HttpResponse:
    """Intuit's redirect (settings.INTUIT_REDIRECT_URI): the state names the
    firm this session started the sign-in for; its own page finishes it."""
    state = request.GET.get("state", "")
    pending = pending_connect(request.session, state)
    if pending is None:
        logger.warning("QuickBooks OAuth return with a state no session started")
        messages.error(request, WRONG_STATE)
        return redirect("home")
    return redirect(
        reverse("quickbooks:callback", args=[pending.slug])
        + "?"
        + urlencode(
            {k: request.GET.get(k, "") for k in ("state", "code", "realmId", "error")}
        )
    )


@require_role(Role.ADMIN)
@require_GET
def quickbooks_callback(request: OrgRequest, org_slug: str) -> HttpResponse:
    params = request.GET
    if params.get("error"):
        pending_connect(request.session, params.get("state", ""))
        messages.info(
            request, "QuickBooks was not connected: the sign-in was cancelled."
        )
        return _back(request)
    try:
        connection = connect_finish(
            session=request.session,
            organization=request.organization,
            by=request.user,
            state=params.get("state", ""),
            code=params.get("code", ""),
            realm_id=params.get("realmId", ""),
            request=request,
        )
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        name = connection.company_name or f"company {connection.realm_id}"
        messages.success(request, f"QuickBooks connected: {name}.")
    return _back(request)


@require_POST
@require_role(Role.ADMIN)
def quickbooks_disconnect(
    request: OrgRequest, org_slug: str, quickbooks_connection_uuid
) -> HttpResponse:
    # Query: the connection, in this firm only.
    connection = get_object_or_404(
        QuickBooksConnection.objects.filter(organization=request.organization),
        uuid=quickbooks_connection_uuid,
    )
    if not connection.refresh_token and not connection.access_token:
        messages.info(request, "That QuickBooks company is not connected.")
        return _back(request)
    revoked = connection_disconnect(
        connection=connection, by=request.user, request=request
    )
    if revoked:
        messages.success(request, "QuickBooks disconnected; Intuit revoked our access.")
    else:
        messages.warning(
            request,
            "QuickBooks disconnected here, but Intuit could not be told: remove "
            "AdvisorOS under Apps in QuickBooks too.",
        )
    return _back(request)


@csrf_exempt
@require_POST
def quickbooks_webhook(request: HttpRequest) -> HttpResponse:
    """Intuit's events (integrations.quickbooks.webhooks)."""
    received = webhook_receive(
        body=request.body, signature=request.headers.get("intuit-signature")
    )
    return JsonResponse(
        {
            "message": received.message,
            "recorded": received.recorded,
            "duplicates": received.duplicates,
        },
        status=received.status,
    )
