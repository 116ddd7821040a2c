"""The portal's part of `make bench` (bench/portal.py, bench/portal_seed.py), small."""

from __future__ import annotations

from io import StringIO

import pytest
from django.db.models import Count

from advisoros.tenancy.db import tenant_context
from bench import harness as bench
from bench import portal as bench_portal
from bench.portal_seed import (
    CONTACT_EMAIL,
    ITEMS,
    MESSAGES,
    REQUESTS,
    SHARED,
    UNREAD,
    seed_portal,
)
from documents.models import Document, DocumentRequest, DocumentRequestItem
from portal.models import Capability, Message, PortalAccount, PortalGrant
from portal.session import PORTAL_KEY

pytestmark = pytest.mark.django_db

SMALL, LARGER = ("bench-a", 40), ("bench-b", 120)


@pytest.fixture
def seeded() -> bench.BenchFirm:
    """A small bench firm through every bench seeder (clients first), as a run
    seeds it."""
    firm = bench.bench_firm_ensure(SMALL[0])
    firm.size = SMALL[1]
    bench.discover()
    with tenant_context(firm.organization):
        for seeder in bench.bench_seeders():
            seeder(firm=firm, stdout=StringIO())
    return firm


def test_it_measures_the_portal_pages_in_both_firms_with_the_same_queries():
    both = bench.run(stdout=StringIO(), firms=(SMALL, LARGER), only="portal", runs=1)
    by_page = {}
    for m in both[2:]:  # after the floor's rows
        by_page.setdefault(m.scenario, []).append(m)
    assert set(by_page) == {"portal_home", "portal_request", "portal_documents"}
    for ms in by_page.values():
        assert [m.size for m in ms] == [40, 120]
        assert ms[0].queries == ms[1].queries > 0


def test_it_seeds_the_bench_contacts_portal(seeded):
    firm = seeded
    account = PortalAccount.objects.get(email=CONTACT_EMAIL)
    assert account.is_active and not account.has_two_factor
    with tenant_context(firm.organization):
        grants = list(PortalGrant.objects.filter(contact__email=CONTACT_EMAIL))
        assert len(grants) == 2
        assert all(g.allows(c) for g in grants for c in Capability)
        ids = [g.client_id for g in grants]

        requests = DocumentRequest.objects.filter(client_id__in=ids)
        assert requests.count() == REQUESTS
        assert set(requests.values_list("status", flat=True)) == {"open"}
        items = DocumentRequestItem.objects.filter(request__in=requests)
        assert items.count() == REQUESTS * ITEMS
        assert set(items.values_list("status", flat=True)) == {
            "open",
            "received",
            "accepted",
            "rejected",
        }
        uploads = Document.objects.filter(request_item__in=items)
        assert uploads.exists()
        assert set(uploads.values_list("source", "uploaded_by_contact__email")) == {
            ("portal", CONTACT_EMAIL)
        }
        # Every item sent holds an upload; nothing open does.
        assert not items.filter(status="open", documents__isnull=False).exists()
        assert not items.exclude(status="open").filter(documents=None).exists()

        shared = Document.objects.filter(client_id__in=ids, visible_to_client=True)
        assert shared.count() == SHARED
        assert {
            c: n for c, n in shared.values_list("client_id").annotate(n=Count("id"))
        } == {
            ids[0]: SHARED // 2,
            ids[1]: SHARED // 2,
        }
        messages = Message.objects.filter(client_id__in=ids)
        assert messages.count() == MESSAGES
        assert messages.filter(from_client=False, read_at=None).count() == UNREAD

        # The busy firm around: a document a client (some shared), a request
        # and a message for every tenth one.
        assert Document.objects.count() == SMALL[1] + SHARED + uploads.count()
        others = Document.objects.exclude(client_id__in=ids)
        assert others.filter(visible_to_client=True).exists()
        assert others.filter(visible_to_client=False).exists()
        assert DocumentRequest.objects.exclude(client_id__in=ids).count() == 4
        assert Message.objects.exclude(client_id__in=ids).count() == 4


def test_a_second_seeding_adds_nothing(seeded):
    firm = seeded
    with tenant_context(firm.organization):
        before = _counts()
        again = seed_portal(
            organization=firm.organization, owner=firm.owner, clients=SMALL[1]
        )
        assert not again.added
        assert _counts() == before


def _counts() -> dict[str, int]:
    return {
        "documents": Document.objects.count(),
        "shared": Document.objects.filter(visible_to_client=True).count(),
        "requests": DocumentRequest.objects.count(),
        "items": DocumentRequestItem.objects.count(),
        "messages": Message.objects.count(),
        "grants": PortalGrant.objects.count(),
        "accounts": PortalAccount.objects.count(),
    }


def test_the_pages_answer_the_bench_contact_through_a_portal_session(seeded):
    firm = seeded
    http = bench_portal.portal_http(firm)
    session = http.session
    assert session[PORTAL_KEY]["account"] == PortalAccount.objects.get().pk
    assert "_auth_user_id" not in session  # not a staff login

    home = http.get(bench_portal.portal_home(firm))
    assert home.status_code == 200
    assert "Hello Bench" in home.content.decode()
    assert http.get(bench_portal.portal_documents(firm)).status_code == 200
    with tenant_context(firm.organization):
        path = bench_portal.portal_request(firm)
        fullest = bench_portal.fullest_request(firm)
        others = list(
            DocumentRequest.objects.filter(
                client__portal_grants__contact__email=CONTACT_EMAIL
            )
            .exclude(pk=fullest.pk)
            .annotate(uploads=Count("items__documents"))
            .values_list("uploads", flat=True)
        )
    assert len(others) == REQUESTS - 1
    assert fullest.uploads > max(others)  # two a sent item, one elsewhere
    assert path.endswith(f"/requests/{fullest.uuid}/")
    page = http.get(path)
    assert page.status_code == 200
    assert page.content.decode().count('data-testid="item"') == ITEMS


def test_the_plans_measure_reads_the_pages_queries(seeded, monkeypatch):
    monkeypatch.setattr(bench_portal, "PLANS_FIRM", SMALL)
    out = StringIO()
    records = bench_portal.portal_query_plans(stdout=out)

    assert [r["name"] for r in records] == [
        "plan.portal_home.open_requests_ms",
        "plan.portal_home.shared_documents_ms",
        "plan.portal_documents.shared_documents_ms",
    ]
    assert all(r["value"] >= 0 and r["dataset_size"] == SMALL[1] for r in records)
    # In a firm this small a plan may rightly skip an index: only the
    # queries being found is checked here.
    assert not any("queries" in r.get("missed", "") for r in records)


def test_the_plans_measure_is_skipped_before_the_bench_is_seeded(monkeypatch):
    monkeypatch.setattr(bench_portal, "PLANS_FIRM", LARGER)
    with pytest.raises(bench.MeasureSkipped):
        bench_portal.portal_query_plans(stdout=StringIO())
