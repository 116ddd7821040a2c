"""The client page's Documents tab (latest versions by tax year, then category,
with their number of versions) and the documents on the client timeline."""

from __future__ import annotations

from django.core.files.base import ContentFile

from advisoros.tenancy.db import tenant_context
from documents.models import AccessLevel, DocumentCategory
from documents.services.documents import (
    document_add_version,
    document_restore_version,
)
from tests.factories import upload_document


def add(client, title, *, user=None, content=None, **fields):
    """A text document named after its title."""
    content = content or f"{title}\n".encode()
    return upload_document(client, user, content, f"{title}.txt", title=title, **fields)


def tab(web, client) -> str:
    html = web.get(f"/o/alpha/clients/{client.uuid}/?tab=documents").content.decode()
    return html.split('data-testid="tab-documents"')[1]


def test_documents_are_grouped_by_tax_year_then_category_with_their_versions(
    cast, login_as, jane
):
    add(jane, "Bank March", category=DocumentCategory.BANK_STATEMENT, tax_year=2023)
    w2 = add(jane, "W-2 Acme", category=DocumentCategory.W2, tax_year=2024)
    add(jane, "Loose note")
    add(jane, "1099-INT Bank", category=DocumentCategory.FORM_1099, tax_year=2024)
    with tenant_context(cast.alpha):
        document_add_version(document=w2, file=ContentFile(b"v2\n"), filename="w2.txt")

    html = tab(login_as(cast.rita), jane)

    order = [
        html.index("Tax year 2024"),
        html.index(">W-2<"),
        html.index("W-2 Acme"),
        html.index(">1099<"),
        html.index("1099-INT Bank"),
        html.index("Tax year 2023"),
        html.index(">Bank statement<"),
        html.index("Bank March"),
        html.index("No tax year"),
        html.index(">Other<"),
        html.index("Loose note"),
    ]
    assert order == sorted(order)
    w2_row = html.split("W-2 Acme")[1].split("</tr>")[0]
    assert "2 versions" in w2_row and "(latest v2)" in w2_row
    assert html.count("1 version<") == 3
    # Only the latest version is listed.
    assert html.count("W-2 Acme") == 1
    # A read-only member has nothing to upload with.
    assert "Upload documents" not in html


def test_the_tab_has_an_upload_button_and_says_when_there_is_nothing_yet(
    cast, login_as, jane
):
    html = tab(login_as(cast.sam), jane)

    assert "No documents yet" in html
    assert f'href="/o/alpha/clients/{jane.uuid}/documents/upload/"' in html
    assert 'data-testid="upload-documents"' in html


def test_the_tab_lists_only_what_the_member_may_see(cast, login_as, jane):
    add(jane, "Open letter")
    add(jane, "Partner memo", access_level=AccessLevel.CONFIDENTIAL)

    sams = tab(login_as(cast.sam), jane)
    adams = tab(login_as(cast.adam), jane)

    assert "Open letter" in sams and "Partner memo" not in sams
    assert "Partner memo" in adams and "Confidential" in adams


def test_the_tab_costs_the_same_queries_for_one_document_or_many(
    cast, login_as, jane, django_assert_num_queries
):
    web = login_as(cast.sam)
    first = add(jane, "First", tax_year=2024)
    web.get(f"/o/alpha/clients/{jane.uuid}/?tab=documents")  # warm the session

    def count() -> None:
        # 1 session, 2 user, 3 the firm, entered in its RLS context, 4 the
        # member's firms (the membership and the switcher), 5 client, 6 its tags,
        # 7 the documents (with their version counts and uploaders), 8 reset the
        # firm setting.
        with django_assert_num_queries(8):
            web.get(f"/o/alpha/clients/{jane.uuid}/?tab=documents")

    count()
    with tenant_context(cast.alpha):
        for i in range(3):
            document_add_version(
                document=first, file=ContentFile(f"v{i}\n".encode()), filename="f.txt"
            )
    for i, year in enumerate((2021, 2022, 2023, None)):
        add(jane, f"Other {i}", user=cast.alice, tax_year=year)
    add(jane, "Kept close", user=cast.sam, access_level=AccessLevel.RESTRICTED)
    count()


def test_uploads_and_new_versions_appear_on_the_client_timeline(cast, login_as, jane):
    first = add(jane, "Engagement letter", user=cast.alice, tax_year=2024)
    with tenant_context(cast.alpha):
        document_add_version(
            document=first,
            file=ContentFile(b"signed\n"),
            filename="letter.txt",
            uploaded_by=cast.sam,
        )
        document_restore_version(version=first, restored_by=cast.adam)
    add(jane, "Partner memo", access_level=AccessLevel.CONFIDENTIAL)

    html = (
        login_as(cast.sam)
        .get(f"/o/alpha/clients/{jane.uuid}/?tab=timeline")
        .content.decode()
    )

    order = [
        html.index("Version 3 of Engagement letter: restored from version 1"),
        html.index("New version 2 of Engagement letter"),
        html.index("Document uploaded: Engagement letter"),
    ]
    assert order == sorted(order)
    assert 'class="timeline-icon timeline-document"' in html
    assert "Other 2024 · Engagement letter.txt" in html
    assert "Partner memo" not in html  # confidential: not for staff
    assert f'href="/o/alpha/documents/{first.uuid}/"' in html
