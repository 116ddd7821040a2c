"""Finding documents: ranked full-text search, and the firm's newest documents.

A search runs in two steps (design and review: docs/documents.md, "Search"):

1. `document_search_ids`, a SECURITY DEFINER SQL function (migration
   0002_search), finds and ranks the member's matching documents with the GIN
   indexes. It takes the firm from the `app.organization_id` setting only (no
   setting, no rows) and applies the member's access rules from the arguments
   this module passes, so a page is full even for a member who may see few
   documents.
2. The ORM then loads those rows through `documents.selectors` and row-level
   security, as every other document page does: a row the member may not see
   cannot come back, even if the function and the selectors ever disagreed.

Without words, the page lists the newest documents (keyset pagination).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core import signing
from django.db import connection
from django.db.models import F, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.functions import Left
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

from advisoros.pagination import KeysetPage, keyset_page
from advisoros.tenancy.models import Membership, Role
from clients.models import Client
from clients.selectors import sees_assigned_only
from documents.models import Document
from documents.selectors import documents_visible_to

PAGE_SIZE = 20
MAX_QUERY = 200
# The function ranks at most this many of the newest matches (0002_search).
CANDIDATES = 1000

# Highlight markers: private-use characters, removed from the text first, so only
# ts_headline can place them. The text is escaped before they become <mark>.
_START, _STOP = "\ue000", "\ue001"
_HEADLINE_CHARS = 30_000  # ts_headline parses its whole input: keep it short
_HEADLINE_OPTIONS = (
    f"StartSel={_START}, StopSel={_STOP}, MaxWords=16, MinWords=8,"
    ' MaxFragments=2, FragmentDelimiter=" … "'
)
_SPACES = re.compile(r"\s+")
_CURSOR_SALT = "documents.search"


@dataclass(frozen=True)
class DocumentFilters:
    """What the searcher asked for; `client` is already one they may see."""

    query: str = ""
    client: Client | None = None
    category: str = ""
    tax_year: int | None = None
    ocr_status: str = ""


@dataclass
class SearchPage(KeysetPage):
    """One page of documents, best first (a search) or newest first (no words).

    Each document carries `.rank` (None without words) and `.snippet` (safe HTML
    with <mark> around the matched words, or "")."""

    rows: list[Document]
    next_cursor: str | None = None
    prev_cursor: str | None = None
    ranked: bool = False
    # The words matched more documents than are ranked: only the newest are.
    capped: bool = False
    # Nothing had the words: the search ran with these instead (typos fixed).
    corrected: str = ""


def document_search(
    *,
    membership: Membership,
    query: str = "",
    client: Client | None = None,
    category: str = "",
    tax_year: int | None = None,
    ocr_status: str = "",
    cursor: str | None = None,
    size: int = PAGE_SIZE,
) -> SearchPage:
    """The member's latest document versions matching `query` and the filters.

    With words: ranked (title above file name and tags, above description, above
    the OCR text), with snippets; when nothing has the words, a misspelt one is
    corrected from the firm's titles, file names and tags ("recipt" finds
    receipt.pdf) and `corrected` says so. Without words: the newest first. At
    most 100 a page. Must run in the member's firm's tenant_context.
    """
    filters = DocumentFilters(
        query=_SPACES.sub(" ", query or "").strip()[:MAX_QUERY],
        client=client,
        category=category,
        tax_year=tax_year,
        ocr_status=ocr_status,
    )
    size = max(1, min(size, 100))
    if filters.query:
        return _ranked_page(membership, filters, cursor, size)
    return _newest_page(membership, filters, cursor, size)


def _listed(membership: Membership) -> QuerySet[Document]:
    """The columns a result row shows (never the whole OCR text)."""
    return (
        documents_visible_to(membership)
        .filter(is_latest_version=True)
        .select_related("client")
        .only(
            "uuid",
            "title",
            "original_filename",
            "category",
            "tax_year",
            "ocr_status",
            "access_level",
            "version",
            "created_at",
            "client__uuid",
            "client__display_name",
        )
    )


def _newest_page(
    membership: Membership, f: DocumentFilters, cursor: str | None, size: int
) -> SearchPage:
    qs = _listed(membership)
    if f.client is not None:
        qs = qs.filter(client_id=f.client.pk)
    if f.category:
        qs = qs.filter(category=f.category)
    if f.tax_year is not None:
        qs = qs.filter(tax_year=f.tax_year)
    if f.ocr_status:
        qs = qs.filter(ocr_status=f.ocr_status)
    qs = qs.annotate(excerpt=Left(F("description"), 240))
    page = keyset_page(
        qs, keys=("created_at", "id"), descending=True, cursor=cursor, size=size
    )
    for document in page.rows:
        document.rank = None
        document.snippet = conditional_escape(_SPACES.sub(" ", document.excerpt))
    return SearchPage(page.rows, page.next_cursor, page.prev_cursor)


def _ranked_page(
    membership: Membership, f: DocumentFilters, cursor: str | None, size: int
) -> SearchPage:
    after = _cursor_decode(cursor) if cursor else None
    # A later page searches with the words the first one used (typos fixed).
    earlier_fix = after[2] if after else ""
    with connection.cursor() as db:
        db.execute(
            "SELECT document_id, rank, candidates, corrected"
            " FROM document_search_ids("
            "%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [
                earlier_fix or f.query,
                membership.user_id,
                membership.has_role(Role.ADMIN),
                sees_assigned_only(membership),
                f.client.pk if f.client is not None else None,
                f.category or None,
                f.tax_year,
                f.ocr_status or None,
                after is None,  # fix typos on a first page only
                after[0] if after else None,
                after[1] if after else None,
                size + 1,
            ],
        )
        found = db.fetchall()
    more = len(found) > size
    found = found[:size]
    if not found:
        return SearchPage([], ranked=True)
    corrected = found[0][3] or earlier_fix
    by_id = {
        d.pk: d
        for d in _listed(membership)
        .filter(pk__in=[row[0] for row in found])
        .annotate(headline=_headline(corrected or f.query))
    }
    rows = []
    for pk, rank, _, _ in found:
        document = by_id.get(pk)
        if document is None:  # the selectors say no: never shown
            continue
        document.rank = rank
        document.snippet = highlight(document.headline)
        rows.append(document)
    last_pk, last_rank, candidates, _ = found[-1]
    return SearchPage(
        rows,
        next_cursor=_cursor_encode(last_rank, last_pk, corrected) if more else None,
        ranked=True,
        capped=candidates >= CANDIDATES,
        corrected=corrected,
    )


def _headline(query: str) -> RawSQL:
    """Matched words in context, from the description and the start of the OCR
    text, with the markers around them (the query is the function's)."""
    return RawSQL(
        "ts_headline('english'::regconfig,"
        " translate(left(concat_ws(' ', NULLIF(documents_document.description, ''),"
        " documents_document.ocr_text), %s), %s, ''),"
        " document_search_query(%s), %s)",
        [_HEADLINE_CHARS, _START + _STOP, query, _HEADLINE_OPTIONS],
    )


def highlight(headline: str) -> SafeString:
    """ts_headline's output as safe HTML: every piece escaped, then the marked
    pieces wrapped in <mark>. Document text never becomes markup."""
    text = _SPACES.sub(" ", headline or "").strip()
    out = []
    marked = False
    for piece in re.split(f"([{_START}{_STOP}])", text):
        if piece == _START:
            marked = True
        elif piece == _STOP:
            marked = False
        elif piece:
            escaped = conditional_escape(piece)
            out.append(f"<mark>{escaped}</mark>" if marked else str(escaped))
    return mark_safe("".join(out))  # noqa: S308  (every piece escaped above)


def _cursor_encode(rank: float, pk: int, corrected: str) -> str:
    return signing.dumps([rank, pk, corrected], salt=_CURSOR_SALT, compress=True)


def _cursor_decode(cursor: str) -> tuple[float, int, str] | None:
    try:
        rank, pk, corrected = signing.loads(cursor, salt=_CURSOR_SALT)
        return float(rank), int(pk), str(corrected)
    except (signing.BadSignature, TypeError, ValueError):
        return None  # stale or forged: the first page
