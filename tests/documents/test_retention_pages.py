"""Retention pages: owners and admins only; the list of documents past retention,
the purge with its typed confirmation, tombstones, and legal hold."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage

from advisoros.audit.models import AuditAction, AuditEvent
from advisoros.tenancy.db import platform_bypass, tenant_context
from documents.models import Document, DocumentTombstone
from tests.documents.stored_documents import stored_document, stored_version
from tests.factories import make_client

RETENTION = "/o/alpha/documents/retention/"
PURGE = "/o/alpha/documents/retention/purge/"
PURGED = "/o/alpha/documents/retention/purged/"


def _past(client, title="Old receipt", **fields):
    """Kept until 2022-12-31 under the default policy."""
    return stored_document(client, title=title, tax_year=2015, **fields)


def _exists(document) -> bool:
    with platform_bypass():
        return Document.objects.filter(pk=document.pk).exists()


def _hold(url_document, **data):
    return f"/o/alpha/documents/{url_document.uuid}/legal-hold/", data


@pytest.mark.parametrize("who", ["sam", "rita"])
def test_members_below_admin_get_403_on_the_retention_pages(cast, login_as, jane, who):
    with tenant_context(cast.alpha):
        tombstone = DocumentTombstone.objects.create(
            organization=cast.alpha,
            document_uuid="00000000-0000-0000-0000-000000000001",
            client_name="Jane Doe",
            title="Gone",
            original_filename="gone.pdf",
            category="other",
            version=1,
            size=1,
            checksum="a" * 64,
            uploaded_at="2020-01-01T00:00:00Z",
            purged_by_email="alice@alpha.test",
        )
    client = login_as(getattr(cast, who))

    for url in (
        RETENTION,
        PURGE,
        PURGED,
        f"{PURGED}{tombstone.uuid}/",
        "/o/alpha/documents/settings/",
    ):
        assert client.get(url).status_code == 403, url


def test_staff_cannot_place_a_legal_hold(cast, login_as, jane):
    document = stored_document(jane)
    url, data = _hold(document, on="1", reason="Lawsuit")

    assert login_as(cast.sam).post(url, data).status_code == 403
    with platform_bypass():
        assert not Document.objects.get(pk=document.pk).legal_hold


def test_the_list_shows_latest_versions_past_retention_not_on_hold(
    cast, login_as, jane
):
    _past(jane, "Old receipt")
    lineage = _past(jane, "Old statement")
    stored_version(lineage)
    _past(jane, "Held", legal_hold=True, legal_hold_reason="IRS audit")
    stored_document(jane, title="Recent", tax_year=2025)
    _past(make_client(cast.beta, "Beta Client"), "Beta's")
    client = login_as(cast.adam)

    due = client.get(RETENTION)
    held = client.get(RETENTION, {"show": "held"})

    assert due.status_code == 200
    assert sorted(d.title for d in due.context["page"].rows) == [
        "Old receipt",
        "Old statement",
    ]
    assert [
        d.version for d in due.context["page"].rows if d.title == "Old statement"
    ] == [2]
    assert [d.title for d in held.context["page"].rows] == ["Held"]
    assert b"IRS audit" in held.content
    assert due.context["tabs"] == [
        ("due", "Past retention", 2),
        ("held", "On legal hold", 1),
    ]


def test_the_list_makes_the_same_number_of_queries_for_2_or_30_documents(
    cast, login_as, jane, django_assert_num_queries
):
    client = login_as(cast.alice)
    client.get(RETENTION)
    for count in (2, 28):
        for n in range(count):
            _past(jane, f"Receipt {n}")
        # 1 session, 2 user, 3 the firm, entered in its RLS context, 4 the member's
        # firms (the membership and the switcher), 5 a page of documents with their
        # clients, 6 the tabs' counts, 7 reset the RLS context.
        with django_assert_num_queries(7):
            response = client.get(RETENTION)
        assert response.status_code == 200
    assert len(response.context["page"].rows) == 30


def test_the_purge_needs_the_typed_confirmation_and_a_reason(cast, login_as, jane):
    old = _past(jane)
    client = login_as(cast.alice)

    page = client.get(PURGE, {"document": [str(old.uuid)]})
    assert page.status_code == 200
    assert [d.title for d in page.context["documents"]] == ["Old receipt"]

    wrong = client.post(
        PURGE, {"document": str(old.uuid), "reason": "Policy", "confirm": "purge"}
    )
    no_reason = client.post(
        PURGE, {"document": str(old.uuid), "reason": "", "confirm": "PURGE"}
    )

    assert wrong.status_code == no_reason.status_code == 200
    assert "confirm" in wrong.context["form"].errors
    assert "reason" in no_reason.context["form"].errors
    assert _exists(old) and default_storage.exists(old.file.name)


def test_an_admin_purges_from_the_page_and_sees_the_tombstones(
    cast, login_as, jane, django_capture_on_commit_callbacks
):
    first = _past(jane, "Old statement")
    second = stored_version(first)
    other = _past(jane, "Old receipt")
    client = login_as(cast.adam)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            PURGE,
            {
                "document": [str(second.uuid), str(other.uuid)],
                "reason": "Seven years passed",
                "confirm": "2",  # the count works as well as PURGE
            },
            follow=True,
        )

    assert response.redirect_chain[-1][0] == PURGED
    assert b"2 documents purged (3 versions)" in response.content
    assert not any(_exists(d) for d in (first, second, other))
    assert not any(default_storage.exists(d.file.name) for d in (first, second, other))
    rows = response.context["page"].rows
    assert sorted((t.title, t.version) for t in rows) == [
        ("Old receipt", 1),
        ("Old statement", 1),
        ("Old statement", 2),
    ]
    assert {t.purged_by_email for t in rows} == {"adam@alpha.test"}
    with platform_bypass():
        events = AuditEvent.objects.filter(
            organization=cast.alpha, action=AuditAction.DOCUMENT_PURGED
        )
        assert {e.detail["checksum"] for e in events} == {
            second.checksum,
            other.checksum,
        }
        assert {e.ip_address for e in events} == {"127.0.0.1"}
    detail = client.get(f"{PURGED}{rows[0].uuid}/")
    assert detail.status_code == 200
    assert rows[0].checksum.encode() in detail.content


def test_a_purge_that_includes_a_held_document_purges_nothing(cast, login_as, jane):
    free = _past(jane, "Free")
    held = _past(jane, "Held", legal_hold=True, legal_hold_reason="Claim")

    response = login_as(cast.alice).post(
        PURGE,
        {
            "document": [str(free.uuid), str(held.uuid)],
            "reason": "Policy",
            "confirm": "PURGE",
        },
    )

    assert response.status_code == 200
    assert "“Held” is on legal hold." in response.context["form"].non_field_errors()
    assert _exists(free) and _exists(held)


def test_another_firms_documents_cannot_be_chosen_for_a_purge(cast, login_as, jane):
    beta_old = _past(make_client(cast.beta, "Beta Client"), "Beta's")

    response = login_as(cast.alice).post(
        PURGE,
        {"document": str(beta_old.uuid), "reason": "Policy", "confirm": "PURGE"},
        follow=True,
    )

    assert b"Choose the documents to purge." in response.content
    assert _exists(beta_old)


def test_an_owner_places_and_releases_a_legal_hold_from_the_page(cast, login_as, jane):
    document = _past(jane)
    client = login_as(cast.alice)

    url, data = _hold(document, on="1", reason="", next=RETENTION)
    refused = client.post(url, data, follow=True)
    assert b"Say why the document is held" in refused.content

    url, data = _hold(document, on="1", reason="Smith v. Doe", next=RETENTION)
    placed = client.post(url, data)
    assert (placed.status_code, placed.url) == (302, RETENTION)
    with platform_bypass():
        stored = Document.objects.get(pk=document.pk)
    assert (stored.legal_hold, stored.legal_hold_reason) == (True, "Smith v. Doe")

    url, data = _hold(document, on="0", next="https://evil.example/")
    released = client.post(url, data)
    assert released.url == RETENTION  # never an outside address
    with platform_bypass():
        assert not Document.objects.get(pk=document.pk).legal_hold


def test_another_firms_document_and_tombstone_are_not_found(cast, login_as):
    beta_document = _past(make_client(cast.beta, "Beta Client"))
    with tenant_context(cast.beta):
        tombstone = DocumentTombstone.objects.create(
            organization=cast.beta,
            document_uuid=beta_document.uuid,
            client_name="Beta Client",
            title="Gone",
            original_filename="gone.pdf",
            category="other",
            version=1,
            size=1,
            checksum="b" * 64,
            uploaded_at="2020-01-01T00:00:00Z",
            purged_by_email="oscar@beta.test",
        )
    client = login_as(cast.alice)

    url, data = _hold(beta_document, on="1", reason="Mine now")
    assert client.post(url, data).status_code == 404
    assert client.get(f"{PURGED}{tombstone.uuid}/").status_code == 404
    with platform_bypass():
        assert not Document.objects.get(pk=beta_document.pk).legal_hold
