"""The stored search vector: kept up to date by its trigger, and bounded in size.

A tsvector's lexemes must stay under 1 MB, so only the first 150,000 bytes of
the OCR text are indexed (cut at a word); the whole text stays stored.
"""

from __future__ import annotations

import random
import string

import pytest
from django.db import connection

from advisoros.tenancy.db import tenant_context
from documents.models import Document
from tests.documents.searching import search, titles
from tests.factories import make_client, make_document

ONE_MB = 1024 * 1024


@pytest.fixture
def alpha_client(cast):
    return make_client(cast.alpha, "Jane Doe")


def vector_of(document: Document) -> tuple[int, str]:
    """(bytes uncompressed, lexemes) of the document's stored vector."""
    with tenant_context(document.organization), connection.cursor() as cursor:
        cursor.execute(
            # The concatenation makes a new, uncompressed value to measure.
            "SELECT pg_column_size(search_vector || ''::tsvector),"
            " search_vector::text"
            " FROM documents_document WHERE id = %s",
            [document.pk],
        )
        return cursor.fetchone()


def random_words(count: int) -> list[str]:
    rng = random.Random(1)
    alphabet = string.ascii_lowercase + string.digits
    return ["".join(rng.choices(alphabet, k=5)) for _ in range(count)]


def form_like_words(count: int) -> list[str]:
    # "ab123" is indexed three ways (ab123, ab, 123): the most vector per byte.
    letters = string.ascii_lowercase
    return [f"{letters[n % 26]}{letters[n // 26 % 26]}{n % 9973}" for n in range(count)]


@pytest.mark.parametrize("words", [random_words, form_like_words])
def test_a_huge_ocr_text_gives_a_vector_far_under_one_megabyte(
    cast, alpha_client, words
):
    # The worst texts for a tsvector: 5 MB of words that hardly ever repeat.
    text = " ".join(["openingword", *words(850_000), "closingword"])
    assert len(text.encode()) > 5_000_000
    document = make_document(alpha_client, title="Huge scan", ocr_text=text)

    size, _ = vector_of(document)

    assert size < 0.5 * ONE_MB
    with tenant_context(cast.alpha):
        stored = Document.objects.values_list("ocr_text", flat=True).get(pk=document.pk)
    assert stored == text  # the text is kept whole; only its start is indexed
    assert titles(search(cast, cast.alice, "openingword")) == ["Huge scan"]
    assert titles(search(cast, cast.alice, "closingword")) == []


def test_a_text_of_wide_characters_is_bounded_by_its_bytes(cast, alpha_client):
    # Three bytes a character: a bound in characters would let 3x more through.
    rng = random.Random(2)
    text = " ".join(
        "".join(chr(0x4E00 + rng.randrange(20_000)) for _ in range(2))
        for _ in range(400_000)
    )
    document = make_document(alpha_client, title="Wide scan", ocr_text=text)

    size, _ = vector_of(document)

    assert size < 0.5 * ONE_MB


def test_an_ordinary_long_scan_is_indexed_to_its_end(cast, alpha_client):
    # 40 pages of a brokerage statement: well inside the bound.
    page = (
        "Proceeds from broker and barter exchange transactions. Short-term "
        "gain or loss, cost basis reported to the IRS, wash sale loss "
        "disallowed, federal income tax withheld. "
    ) * 15
    text = " ".join(f"Page {n}. {page}" for n in range(40)) + " lastpageword"
    document = make_document(alpha_client, title="1099-B", ocr_text=text)

    size, _ = vector_of(document)

    assert size < 0.05 * ONE_MB
    assert titles(search(cast, cast.alice, "lastpageword")) == ["1099-B"]


def test_the_vector_follows_its_sources(cast, alpha_client):
    document = make_document(
        alpha_client, title="Draft", ocr_text="alpha", tags=["first"]
    )
    with tenant_context(cast.alpha):
        document.refresh_from_db()
        document.title = "Signed letter"
        document.ocr_text = "bravo"
        document.tags = ["second"]
        document.save()

    _, lexemes = vector_of(document)

    assert "'sign':1A" in lexemes
    assert "'bravo'" in lexemes
    assert "'second'" in lexemes
    assert "draft" not in lexemes and "alpha" not in lexemes


def test_a_save_of_other_fields_keeps_the_vector(cast, alpha_client):
    document = make_document(alpha_client, title="Bank statement", ocr_text="chase")
    before = vector_of(document)
    with tenant_context(cast.alpha):
        # A fresh instance has no vector loaded: saving it must not erase one.
        fresh = Document.objects.defer("search_vector").get(pk=document.pk)
        fresh.ocr_status = "needs_review"
        fresh.save()
        document.ocr_status = "completed"
        document.save()  # created in Python: its search_vector attribute is None

    assert vector_of(document) == before


def test_a_vector_written_by_hand_is_replaced(cast, alpha_client):
    document = make_document(alpha_client, title="Bank statement")
    before = vector_of(document)
    with tenant_context(cast.alpha), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE documents_document SET search_vector = 'forged' WHERE id = %s",
            [document.pk],
        )

    assert vector_of(document) == before
