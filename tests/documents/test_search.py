"""documents.search.document_search: ranking, snippets, filters, typos and who sees what.

Documents are made directly in the database (a dummy file path, OCR text set by
hand): search reads rows, never files.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.dbroles import statistics_refresh
from advisoros.tenancy.models import Organization, Role
from clients.models import Client, Engagement
from documents.models import AccessLevel, Document, DocumentAccess, OcrStatus
from documents.search import highlight
from documents.selectors import documents_visible_to
from tests.documents.searching import search, titles
from tests.factories import make_client, make_document


@pytest.fixture
def alpha_client(cast) -> Client:
    return make_client(cast.alpha, "Jane Doe")


# Ranking and snippets ------------------------------------------------------------


def test_a_title_match_ranks_above_a_match_in_the_ocr_text(cast, alpha_client):
    make_document(
        alpha_client,
        title="Bank letter",
        ocr_text="We received your mortgage payment. " * 5,
    )
    make_document(alpha_client, title="Mortgage interest statement", ocr_text="1098")
    make_document(
        alpha_client,
        title="Scan",
        original_filename="mortgage_2025.pdf",
        ocr_text="Form 1098 lender",
    )
    make_document(alpha_client, title="Unrelated", ocr_text="payroll register")

    page = search(cast, cast.alice, "mortgage")

    assert titles(page) == ["Mortgage interest statement", "Scan", "Bank letter"]
    assert page.ranked
    assert page.rows[0].rank > page.rows[1].rank > page.rows[2].rank


def test_the_snippet_highlights_the_matched_words(cast, alpha_client):
    make_document(
        alpha_client,
        title="Statement",
        ocr_text="Chase Bank monthly statement. Ending balance 4,210.55 dollars.",
    )

    (hit,) = search(cast, cast.alice, "balance").rows

    assert "Ending <mark>balance</mark> 4,210.55" in hit.snippet


def test_document_text_is_escaped_in_the_snippet(cast, alpha_client):
    make_document(
        alpha_client,
        title="Odd scan",
        ocr_text='<script>alert("x")</script> invoice 5 < 6 & <b>total</b> \ue001 due',
    )

    (hit,) = search(cast, cast.alice, "invoice").rows

    assert "<script" not in hit.snippet
    assert "<b>" not in hit.snippet
    assert "<mark>invoice</mark> 5 &lt; 6 &amp; total" in hit.snippet


def test_highlight_keeps_only_its_own_marks():
    assert (
        highlight("a \ue000<i>b</i>\ue001 c") == "a <mark>&lt;i&gt;b&lt;/i&gt;</mark> c"
    )


# Words, form names and typos -----------------------------------------------------


def test_a_misspelled_file_name_still_matches(cast, alpha_client):
    make_document(alpha_client, title="Scan 1", original_filename="receipt.pdf")
    make_document(alpha_client, title="Scan 2", original_filename="invoice.pdf")

    page = search(cast, cast.alice, "recipt")

    assert titles(page) == ["Scan 1"]
    assert page.corrected == "receipt"


def test_each_misspelled_word_is_corrected(cast, alpha_client):
    make_document(alpha_client, title="Chase bank statement March")
    make_document(alpha_client, title="Chase bank letter")

    page = search(cast, cast.alice, "bank statment")

    assert titles(page) == ["Chase bank statement March"]
    assert page.corrected == "bank statement"


def test_no_correction_when_a_document_has_the_words(cast, alpha_client):
    make_document(alpha_client, title="Scan 1", original_filename="receipt.pdf")
    make_document(alpha_client, title="Recipt", original_filename="x.pdf")

    page = search(cast, cast.alice, "recipt")

    assert titles(page) == ["Recipt"]
    assert page.corrected == ""


def test_a_correction_never_comes_from_documents_the_member_may_not_see(
    cast, alpha_client
):
    make_document(
        alpha_client,
        title="Divorce settlement",
        access_level=AccessLevel.CONFIDENTIAL,
    )
    make_document(alpha_client, title="Divorse", access_level=AccessLevel.CONFIDENTIAL)

    assert search(cast, cast.sam, "divorse").rows == []  # no "divorce" offered
    assert titles(search(cast, cast.adam, "divorse")) == ["Divorse"]
    assert titles(search(cast, cast.adam, "divorc")) == ["Divorce settlement"]


def test_later_pages_keep_the_corrected_words(cast, alpha_client):
    for i in range(5):
        make_document(alpha_client, title=f"Receipt {i}")

    first = search(cast, cast.alice, "recipt", size=3)
    second = search(cast, cast.alice, "recipt", size=3, cursor=first.next_cursor)

    assert second.corrected == "receipt"
    assert sorted(titles(first) + titles(second)) == [f"Receipt {i}" for i in range(5)]


def test_form_names_match_with_or_without_their_hyphen(cast, alpha_client):
    make_document(alpha_client, title="Scan", original_filename="W-2_2025.pdf")
    make_document(alpha_client, title="Wages", ocr_text="Copy B of your W2 for 2024")
    make_document(alpha_client, title="Interest", ocr_text="Form 1099-INT from Chase")
    make_document(alpha_client, title="Other", original_filename="w-4_2025.pdf")

    assert titles(search(cast, cast.alice, "w2 2025")) == ["Scan"]
    assert set(titles(search(cast, cast.alice, "W-2"))) == {"Scan", "Wages"}
    assert titles(search(cast, cast.alice, "1099")) == ["Interest"]
    assert titles(search(cast, cast.alice, "1099-int")) == ["Interest"]


def test_words_match_their_other_forms(cast, alpha_client):
    make_document(alpha_client, title="Receipts for March", ocr_text="")

    assert titles(search(cast, cast.alice, "receipt")) == ["Receipts for March"]


def test_tags_and_description_are_searched(cast, alpha_client):
    make_document(alpha_client, title="One", tags=["Rental property"])
    make_document(alpha_client, title="Two", description="Signed by both spouses")

    assert titles(search(cast, cast.alice, "rental")) == ["One"]
    assert titles(search(cast, cast.alice, "spouses")) == ["Two"]


def test_a_query_of_stop_words_only_finds_nothing(cast, alpha_client):
    make_document(alpha_client, title="The letter")

    assert search(cast, cast.alice, "the and").rows == []


# Filters -------------------------------------------------------------------------


def test_filters_narrow_the_results(cast, alpha_client):
    other = make_client(cast.alpha, "Other Client")
    make_document(alpha_client, title="W-2 2024", category="w2", tax_year=2024)
    make_document(alpha_client, title="W-2 2025", category="w2", tax_year=2025)
    make_document(alpha_client, title="W-2 receipt", category="receipt", tax_year=2025)
    make_document(
        alpha_client,
        title="W-2 pending",
        category="w2",
        tax_year=2025,
        ocr_status=OcrStatus.PENDING,
    )
    make_document(other, title="W-2 of another client", category="w2", tax_year=2025)

    found = search(
        cast,
        cast.alice,
        "w2",
        client=alpha_client,
        category="w2",
        tax_year=2025,
        ocr_status=OcrStatus.COMPLETED,
    )
    newest = search(cast, cast.alice, "", client=other, tax_year=2025)

    assert titles(found) == ["W-2 2025"]
    assert titles(newest) == ["W-2 of another client"]


# Versions and pages --------------------------------------------------------------


def test_only_the_latest_version_is_found(cast, alpha_client):
    first = make_document(alpha_client, title="Engagement letter draft")
    with tenant_context(cast.alpha):
        Document.objects.filter(pk=first.pk).update(is_latest_version=False)
    make_document(
        alpha_client,
        title="Engagement letter signed",
        parent_document=first,
        version=2,
    )

    assert titles(search(cast, cast.alice, "engagement letter")) == [
        "Engagement letter signed"
    ]
    assert titles(search(cast, cast.alice, "")) == ["Engagement letter signed"]


def test_ranked_pages_follow_each_other_without_repeats(cast, alpha_client):
    for i in range(7):
        make_document(alpha_client, title=f"Invoice {i}", ocr_text="invoice " * i)

    first = search(cast, cast.alice, "invoice", size=3)
    second = search(cast, cast.alice, "invoice", size=3, cursor=first.next_cursor)
    third = search(cast, cast.alice, "invoice", size=3, cursor=second.next_cursor)

    seen = titles(first) + titles(second) + titles(third)
    assert sorted(seen) == sorted(f"Invoice {i}" for i in range(7))
    assert third.next_cursor is None
    ranks = [d.rank for page in (first, second, third) for d in page.rows]
    assert ranks == sorted(ranks, reverse=True)


def test_without_words_the_newest_documents_come_first(cast, alpha_client):
    now = timezone.now()
    for i in range(5):
        document = make_document(alpha_client, title=f"Doc {i}", description="Note")
        with tenant_context(cast.alpha):
            Document.objects.filter(pk=document.pk).update(
                created_at=now - timedelta(days=10 - i)
            )

    first = search(cast, cast.alice, "", size=3)
    second = search(cast, cast.alice, "", size=3, cursor=first.next_cursor)

    assert titles(first) == ["Doc 4", "Doc 3", "Doc 2"]
    assert titles(second) == ["Doc 1", "Doc 0"]
    assert first.rows[0].snippet == "Note"
    assert not first.ranked


def test_a_forged_cursor_starts_from_the_first_page(cast, alpha_client):
    make_document(alpha_client, title="Invoice")

    assert titles(search(cast, cast.alice, "invoice", cursor="forged")) == ["Invoice"]


# Who sees what -------------------------------------------------------------------


def test_another_firms_documents_never_appear(cast, alpha_client):
    beta = make_client(cast.beta, "Bob Beta")
    make_document(beta, title="Beta payroll register", ocr_text="payroll")
    make_document(alpha_client, title="Alpha payroll register", ocr_text="payroll")

    assert titles(search(cast, cast.alice, "payroll")) == ["Alpha payroll register"]
    assert "Beta payroll register" not in titles(search(cast, cast.alice, ""))


def test_restricted_and_confidential_documents_appear_only_to_those_allowed(
    cast, alpha_client
):
    make_document(alpha_client, title="Payroll standard")
    make_document(
        alpha_client, title="Payroll restricted", access_level=AccessLevel.RESTRICTED
    )
    make_document(
        alpha_client,
        title="Payroll confidential",
        access_level=AccessLevel.CONFIDENTIAL,
    )

    assert set(titles(search(cast, cast.adam, "payroll"))) == {
        "Payroll standard",
        "Payroll restricted",
        "Payroll confidential",
    }
    assert titles(search(cast, cast.sam, "payroll")) == ["Payroll standard"]
    assert titles(search(cast, cast.rita, "payroll")) == ["Payroll standard"]


def test_a_restricted_document_appears_to_the_people_it_names(cast, alpha_client):
    restricted = make_document(
        alpha_client, title="Payroll restricted", access_level=AccessLevel.RESTRICTED
    )
    with tenant_context(cast.alpha):
        DocumentAccess.objects.create(
            organization=cast.alpha, document=restricted, user=cast.sam
        )

    assert titles(search(cast, cast.sam, "payroll")) == ["Payroll restricted"]
    assert titles(search(cast, cast.rita, "payroll")) == []


def test_a_restricted_document_appears_to_the_clients_partner(cast):
    client = make_client(cast.alpha, "Partnered", partner=cast.sam)
    make_document(
        client, title="Payroll restricted", access_level=AccessLevel.RESTRICTED
    )

    assert titles(search(cast, cast.sam, "payroll")) == ["Payroll restricted"]


def test_assigned_only_staff_find_only_their_clients_documents(cast, alpha_client):
    mine = make_client(cast.alpha, "Sam's client", staff=cast.sam)
    make_document(mine, title="Payroll of mine")
    make_document(alpha_client, title="Payroll of someone else")
    with tenant_context(cast.alpha):
        Organization.objects.filter(pk=cast.alpha.pk).update(assigned_clients_only=True)

    assert titles(search(cast, cast.sam, "payroll")) == ["Payroll of mine"]
    assert titles(search(cast, cast.sam, "")) == ["Payroll of mine"]
    assert len(search(cast, cast.alice, "payroll").rows) == 2


def test_a_member_who_may_see_few_documents_still_gets_full_pages(cast, alpha_client):
    # 30 newer matches sam may not see must not eat his page of 5.
    for i in range(6):
        make_document(alpha_client, title=f"Ledger standard {i}")
    for i in range(30):
        make_document(
            alpha_client,
            title=f"Ledger confidential {i}",
            access_level=AccessLevel.CONFIDENTIAL,
        )

    page = search(cast, cast.sam, "ledger", size=5)
    rest = search(cast, cast.sam, "ledger", size=5, cursor=page.next_cursor)

    assert len(page.rows) == 5
    assert page.next_cursor is not None
    assert sorted(titles(page) + titles(rest)) == [
        f"Ledger standard {i}" for i in range(6)
    ]


@pytest.mark.parametrize("analyzed", [False, True])
@pytest.mark.parametrize("assigned_only", [False, True])
def test_the_search_function_agrees_with_the_access_selectors(
    cast, assigned_only, analyzed
):
    """Every combination of access level, assignment and naming, for every member:
    the function finds exactly what documents_visible_to lets them see. Analyzed,
    the planner knows "ledger" is in every document and the function walks the
    newest documents; otherwise it takes the GIN index."""
    people = [cast.alice, cast.adam, cast.sam, cast.rita]
    clients = [
        make_client(cast.alpha, "Plain"),
        make_client(cast.alpha, "Sam staffs", staff=cast.sam),
        make_client(cast.alpha, "Sam partners", partner=cast.sam),
        make_client(cast.alpha, "Rita manages", manager=cast.rita),
    ]
    with tenant_context(cast.alpha):
        engagement = Engagement.objects.create(
            organization=cast.alpha,
            client=clients[0],
            name="2025 return",
            manager=cast.sam,
        )
    for client in clients:
        for level in AccessLevel.values:
            make_document(client, title="Ledger", access_level=level)
            make_document(
                client, title="Ledger", access_level=level, uploaded_by=cast.rita
            )
            named = make_document(client, title="Ledger", access_level=level)
            with tenant_context(cast.alpha):
                DocumentAccess.objects.create(
                    organization=cast.alpha, document=named, user=cast.sam
                )
        make_document(
            client,
            title="Ledger",
            access_level=AccessLevel.RESTRICTED,
            engagement=engagement if client == clients[0] else None,
        )
    with tenant_context(cast.alpha):
        Organization.objects.filter(pk=cast.alpha.pk).update(
            assigned_clients_only=assigned_only
        )
    if analyzed:  # the owner's app_analyze(): the app role owns no table
        statistics_refresh(["documents_document"])

    for user in people:
        membership = cast.membership(user, cast.alpha)
        with tenant_context(cast.alpha):
            expected = set(
                documents_visible_to(membership)
                .filter(is_latest_version=True)
                .values_list("pk", flat=True)
            )
            found = {d.pk for d in search(cast, user, "ledger", size=100).rows}
        assert found == expected, (user.email, membership.role)
    assert cast.membership(cast.rita, cast.alpha).role == Role.READONLY
