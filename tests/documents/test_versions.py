"""Versions: a new version takes over the document's facts, history shows who,
when, size and checksum, an old version can be restored as a new one, and two
people uploading a new version at once both succeed with distinct numbers."""

from __future__ import annotations

import hashlib
import threading
from urllib.parse import quote

import pytest
from django.core.files.base import ContentFile
from django.db import connection, transaction

from advisoros.tenancy.db import tenant_context
from clients.models import Engagement, EngagementType
from documents.models import AccessLevel, Document
from documents.services.documents import (
    document_add_version,
    document_update,
)
from tests.documents.conftest import stored_files
from tests.factories import LEDGER, upload_document, wait_for_lock_waiters

V1 = LEDGER  # what upload_document stores unless told
V2 = b"date,amount\n2024-01-02,10.00\n2024-02-03,25.50\n"


def lineage(document: Document) -> list[Document]:
    with tenant_context(document.organization):
        root = document.root_id
        return list(
            (
                Document.objects.filter(pk=root)
                | Document.objects.filter(parent_document=root)
            ).order_by("version")
        )


def test_a_new_version_takes_over_the_documents_facts_and_becomes_the_latest(
    cast, login_as, jane
):
    with tenant_context(cast.alpha):
        engagement = Engagement.objects.create(
            organization=cast.alpha,
            client=jane,
            name="2024 return",
            engagement_type=EngagementType.INDIVIDUAL_TAX,
        )
    first = upload_document(
        jane,
        cast.sam,  # the uploader of a restricted document may see it
        category="bank_statement",
        tax_year=2024,
        tags=["checking"],
        engagement=engagement,
        access_level=AccessLevel.RESTRICTED,
        visible_to_client=True,
        title="Checking ledger",
    )

    response = login_as(cast.sam).post(
        f"/o/alpha/documents/{first.uuid}/versions/new/",
        data=V2,
        content_type="application/octet-stream",
        HTTP_X_FILE_NAME=quote("ledger (2).csv"),
        HTTP_ACCEPT="application/json",
    )

    assert response.status_code == 200, response.content
    with tenant_context(cast.alpha):
        first.refresh_from_db()
        second = Document.objects.get(parent_document=first)
    assert response.json()["files"][0]["message"] == (
        "ledger (2).csv uploaded as version 2 of Checking ledger."
    )
    assert (second.version, second.is_latest_version) == (2, True)
    assert first.is_latest_version is False
    assert (second.title, second.category, second.tax_year, second.tags) == (
        "Checking ledger",
        "bank_statement",
        2024,
        ["checking"],
    )
    assert second.engagement_id == engagement.pk
    assert second.access_level == AccessLevel.RESTRICTED
    assert second.visible_to_client is True
    assert second.uploaded_by_id == cast.sam.pk
    assert second.original_filename == "ledger (2).csv"
    assert second.checksum == hashlib.sha256(V2).hexdigest()


def test_a_version_of_a_version_still_points_at_the_root(cast, jane):
    first = upload_document(jane, cast.sam)
    with tenant_context(cast.alpha):
        second = document_add_version(
            document=first, file=ContentFile(V2), filename="l.csv"
        )
        third = document_add_version(
            document=second, file=ContentFile(V1 + b"x,1\n"), filename="l.csv"
        )

    assert (second.parent_document_id, third.parent_document_id) == (first.pk,) * 2
    assert [(d.version, d.is_latest_version) for d in lineage(first)] == [
        (1, False),
        (2, False),
        (3, True),
    ]


def test_the_history_shows_who_when_size_and_checksum_of_every_version(
    cast, login_as, jane
):
    first = upload_document(jane, cast.alice)
    with tenant_context(cast.alpha):
        second = document_add_version(
            document=first, file=ContentFile(V2), filename="l.csv", uploaded_by=cast.sam
        )

    html = login_as(cast.rita).get(f"/o/alpha/documents/{first.uuid}/").content.decode()

    history = html.split('data-testid="versions"')[1]
    row1 = history.split('data-testid="version-1"')[1].split("</tr>")[0]
    row2 = history.split('data-testid="version-2"')[1].split("</tr>")[0]
    assert "Alice Owner" in row1 and "Sam Staff" in row2
    assert first.checksum[:12] in row1 and second.checksum[:12] in row2
    assert f'title="{second.checksum}"' in row2
    assert f"{len(V1)}\xa0bytes" in row1 and f"{len(V2)}\xa0bytes" in row2
    assert "Latest" in row2 and "Latest" not in row1
    # Each version opens on its own; the old one says which is the latest.
    assert f"/o/alpha/documents/{first.uuid}/download/" in row1
    assert "You are looking at version 1." in html
    # A read-only member may look, not restore.
    assert "Restore" not in history


def test_restoring_an_old_version_makes_a_copy_of_it_the_new_latest(
    cast, login_as, jane, media_root
):
    first = upload_document(jane, cast.alice)
    with tenant_context(cast.alpha):
        document_add_version(document=first, file=ContentFile(V2), filename="l.csv")

    response = login_as(cast.sam).post(f"/o/alpha/documents/{first.uuid}/restore/")

    versions = lineage(first)
    restored = versions[-1]
    assert response.status_code == 302
    assert response.url == f"/o/alpha/documents/{restored.uuid}/"
    assert (restored.version, restored.is_latest_version) == (3, True)
    assert restored.restored_from_id == first.pk
    assert restored.checksum == first.checksum
    assert restored.uploaded_by_id == cast.sam.pk
    assert restored.duplicate_of_id is None  # its own lineage is not a duplicate
    assert (media_root / restored.file.name).read_bytes() == V1
    assert restored.file.name != first.file.name  # a copy, not a shared file
    assert len(stored_files(media_root)) == 3
    page = login_as(cast.sam).get(response.url).content.decode()
    assert "restored from version 1" in page


def test_a_stored_file_that_no_longer_matches_its_checksum_is_not_restored(
    cast, login_as, jane, media_root
):
    first = upload_document(jane, cast.alice)
    with tenant_context(cast.alpha):
        document_add_version(document=first, file=ContentFile(V2), filename="l.csv")
    (media_root / first.file.name).write_bytes(b"tampered")

    response = login_as(cast.sam).post(
        f"/o/alpha/documents/{first.uuid}/restore/", follow=True
    )

    assert "does not match its checksum; it was not restored." in (
        response.content.decode()
    )
    assert len(lineage(first)) == 2
    assert len(stored_files(media_root)) == 2


def test_restoring_the_latest_version_changes_nothing(cast, login_as, jane):
    first = upload_document(jane, cast.alice)

    response = login_as(cast.sam).post(
        f"/o/alpha/documents/{first.uuid}/restore/", follow=True
    )

    assert "Version 1 is already the latest." in response.content.decode()
    assert len(lineage(first)) == 1


def test_an_edit_applies_to_every_version_so_an_old_one_is_never_more_visible(
    cast, login_as, jane
):
    first = upload_document(jane, cast.alice)
    with tenant_context(cast.alpha):
        document_add_version(document=first, file=ContentFile(V2), filename="l.csv")

    response = login_as(cast.alice).post(
        f"/o/alpha/documents/{first.uuid}/edit/",
        {
            "title": "Ledger 2024",
            "category": "bank_statement",
            "tax_year": "2024",
            "tags": "cash, bank",
            "access_level": "confidential",
        },
    )

    assert response.status_code == 302
    assert {
        (d.title, d.category, d.tax_year, tuple(d.tags), d.access_level)
        for d in lineage(first)
    } == {("Ledger 2024", "bank_statement", 2024, ("cash", "bank"), "confidential")}
    # Sam (staff) may no longer open either version.
    sam = login_as(cast.sam)
    assert sam.get(f"/o/alpha/documents/{first.uuid}/").status_code == 404


def test_people_named_on_a_restricted_document_are_kept_on_its_root(
    cast, login_as, jane
):
    first = upload_document(jane, cast.alice, access_level=AccessLevel.RESTRICTED)
    with tenant_context(cast.alpha):
        second = document_add_version(
            document=first, file=ContentFile(V2), filename="l.csv"
        )
    assert (
        login_as(cast.sam).get(f"/o/alpha/documents/{second.uuid}/").status_code == 404
    )

    response = login_as(cast.alice).post(
        f"/o/alpha/documents/{second.uuid}/edit/",
        {
            "title": "Ledger",
            "category": "other",
            "access_level": "restricted",
            "access_users": [cast.sam.pk],
        },
    )

    assert response.status_code == 302
    sam = login_as(cast.sam)
    assert sam.get(f"/o/alpha/documents/{first.uuid}/").status_code == 200
    page = sam.get(f"/o/alpha/documents/{second.uuid}/").content.decode()
    assert "and Sam Staff" in page
    with tenant_context(cast.alpha):
        document_update(document=second, data={}, access_users=[])
    assert sam.get(f"/o/alpha/documents/{second.uuid}/").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_new_versions_both_succeed_with_distinct_numbers(
    cast, jane, media_root
):
    first = upload_document(jane, cast.alice)
    results: dict[str, Document | BaseException] = {}

    def upload(name: str, content: bytes) -> None:
        try:
            with tenant_context(cast.alpha):
                results[name] = document_add_version(
                    document=first, file=ContentFile(content), filename=f"{name}.csv"
                )
        except BaseException as exc:  # reported by the assertions below
            results[name] = exc
        finally:
            connection.close()

    # Hold the root's lock, so both uploads reach it and wait there together.
    with tenant_context(cast.alpha), transaction.atomic():
        Document.objects.select_for_update().get(pk=first.pk)
        threads = [
            threading.Thread(target=upload, args=(name, V1 + name.encode() + b"\n"))
            for name in ("ann", "bob")
        ]
        for thread in threads:
            thread.start()
        met = wait_for_lock_waiters(2, timeout=30)
        assert met, f"never met at the lock: {results}"
    for thread in threads:
        thread.join(timeout=60)

    assert all(isinstance(r, Document) for r in results.values()), results
    assert sorted(r.version for r in results.values()) == [2, 3]
    versions = lineage(first)
    assert [d.version for d in versions] == [1, 2, 3]
    assert [d.version for d in versions if d.is_latest_version] == [3]
    assert len(stored_files(media_root)) == 3
