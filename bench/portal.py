"""The client portal's part of `make bench` (see bench/harness.py): data and pages.

The bench contact (bench/portal_seed.py) signs in to the portal of each bench
firm through a portal session (portal.session: the session's own keys, not a
staff login) and opens its home page, its fullest open request and the list
of documents shared with it. And a measure, `portal_query_plans`: the index
the shared documents and open requests queries read in bench-100k.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.db.models import Count
from django.test import Client as HttpClient
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse

from advisoros.tenancy.db import tenant_context
from bench.harness import (
    BENCH_FIRMS,
    BenchFirm,
    MeasureSkipped,
    bench_firm_ensure,
    query_plan,
    register_bench_seeder,
    register_measure,
    register_scenario,
)
from bench.portal_seed import CONTACT_EMAIL, seed_portal
from documents.models import DocumentRequest
from portal.models import PortalAccount, PortalGrant
from portal.session import portal_sign_in


@register_bench_seeder
def seed(*, firm: BenchFirm, stdout) -> None:
    result = seed_portal(
        organization=firm.organization,
        owner=firm.owner,
        clients=firm.size,
        stdout=stdout,
    )
    if result.added:
        stdout.write(
            f"{firm.organization.slug}: portal seeded in {result.seconds:.1f} s:"
            f" {result.documents:,} firm documents, {result.background_requests:,}"
            f" requests and {result.background_messages:,} messages of other"
            f" clients; for the bench contact {result.requests} requests with"
            f" {result.uploads} uploads, {result.shared} shared documents and"
            f" {result.messages} messages"
        )


def portal_http(firm: BenchFirm) -> HttpClient:
    """A test client signed in to the portal as the bench contact, with the
    session keys `portal_sign_in` sets (second factor done)."""
    account = PortalAccount.objects.get(email=CONTACT_EMAIL)
    http = HttpClient()
    session = http.session
    request = RequestFactory().get("/")
    request.session = session
    portal_sign_in(request, account)
    session.save()
    http.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
    return http


def _portal(name: str, firm: BenchFirm, **kwargs) -> str:
    return reverse(
        f"portal:{name}", kwargs={"org_slug": firm.organization.slug, **kwargs}
    )


@register_scenario("portal_home", http_for=portal_http)
def portal_home(firm: BenchFirm) -> str:
    return _portal("home", firm)


def fullest_request(firm: BenchFirm) -> DocumentRequest:
    """The bench contact's open request with the most uploads, then items."""
    clients = PortalGrant.objects.filter(
        organization=firm.organization, contact__email=CONTACT_EMAIL
    ).values("client_id")
    return (
        DocumentRequest.objects.filter(
            organization=firm.organization,
            client_id__in=clients,
            status=DocumentRequest.Status.OPEN,
        )
        .annotate(
            uploads=Count("items__documents"),
            items_count=Count("items", distinct=True),
        )
        .order_by("-uploads", "-items_count", "pk")
        .first()
    )


@register_scenario("portal_request", http_for=portal_http)
def portal_request(firm: BenchFirm) -> str:
    return _portal("request_detail", firm, request_uuid=fullest_request(firm).uuid)


@register_scenario("portal_documents", http_for=portal_http)
def portal_documents(firm: BenchFirm) -> str:
    return _portal("documents", firm)


# Which index the portal's queries read at 100,000 clients -----------------------

# The queries to check, by the table they read from (and not one they join):
# (label, table, the indexes its plan must read).
OPEN_REQUESTS = (
    "open_requests",
    "documents_documentrequest",
    ("docrequest_client_status",),
)
SHARED_DOCUMENTS = (
    "shared_documents",
    "documents_document",
    ("document_client_shared",),
)
PLANS = {
    "portal_home": (portal_home, (OPEN_REQUESTS, SHARED_DOCUMENTS)),
    "portal_documents": (portal_documents, (SHARED_DOCUMENTS,)),
}
PLANS_FIRM = BENCH_FIRMS[-1]


@register_measure("portal_query_plans")
def portal_query_plans(*, stdout) -> list[dict]:
    """EXPLAIN ANALYZE of the open requests and shared documents queries in
    bench-100k, as the bench contact's pages send them (real requests,
    captured): the execution time of each, and a miss when its plan does not
    read the indexes it should."""
    slug, size = PLANS_FIRM
    firm = bench_firm_ensure(slug)
    firm.size = size
    if not PortalAccount.objects.filter(email=CONTACT_EMAIL).exists():
        raise MeasureSkipped(f"no bench contact in {slug}: run make bench first")
    records = []
    with override_settings(
        DEBUG=False, ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"]
    ):
        http = portal_http(firm)
        for name, (path_for, queries) in PLANS.items():
            path = path_for(firm)
            http.get(path)
            with CaptureQueriesContext(connection) as captured:
                http.get(path)
            for label, table, indexes in queries:
                sqls = [
                    q["sql"]
                    for q in captured.captured_queries
                    if f'FROM "{table}"' in q["sql"]
                ]
                record = {
                    "name": f"plan.{name}.{label}_ms",
                    "unit": "ms",
                    "dataset_size": size,
                }
                if len(sqls) != 1:
                    records.append(
                        {**record, "value": 0, "missed": f"{len(sqls)} queries"}
                    )
                    continue
                with tenant_context(firm.organization):
                    used, ms = query_plan(sqls[0])
                missing = [index for index in indexes if index not in used]
                stdout.write(
                    f"  {name} {label}: {ms:.2f} ms, reads {', '.join(sorted(used))}"
                )
                record["value"] = round(ms, 2)
                if missing:
                    record["missed"] = f"does not read {', '.join(missing)}"
                records.append(record)
    return records
