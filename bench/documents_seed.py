"""A million documents for the search benchmark, fast: `manage.py seed_bench_documents`.

The firms (DOCUMENT_FIRMS): `bench-docs-100k` holds 120,000 documents (the
largest firm, the one the target is about), `bench-docs-10k` 10,000 (the
ratio's base), and eight `bench-docs-fill-N` firms hold the rest of the
1,000,000, so the indexes are shared with other firms' rows as in production.
Each firm gets its members (`bench.harness.bench_firm_ensure`) and clients
with contacts and engagements (`bench.clients_seed.seed_clients`).

Documents are inserted with `bench.harness.copy_rows` (COPY, then INSERT ...
SELECT through the row-level security policy), so the search trigger computes
every vector, as for a real upload. The text is OCR-like: a few hundred words
drawn with Zipf-like frequencies from tax and accounting vocabulary, the
client's and other people's names, amounts, dates, account digits and a little
OCR noise, so lexeme frequencies look like a real firm's: "tax" is in most
documents, a surname in a few, noise words in one. Titles and file names follow
the category (W-2_2025.pdf, 1099-INT_Chase_2024.pdf, receipt_0042.jpg ...).
About 5% of documents have an older version, 7% are restricted and 3%
confidential. A run tops a firm up to its size (the random generator is seeded
by the firm and what it had), so a second run adds nothing.
"""

from __future__ import annotations

import itertools
import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.dbroles import statistics_refresh
from advisoros.tenancy.models import Membership, Organization
from bench.clients_seed import FIRST_NAMES, LAST_NAMES, seed_clients
from bench.harness import bench_firm_ensure, copy_rows, reserve_ids
from clients.models import Client, Engagement
from documents.models import AccessLevel, Document, DocumentCategory, OcrStatus

# (slug, documents, clients)
DOCUMENT_FIRMS: tuple[tuple[str, int, int], ...] = (
    ("bench-docs-100k", 120_000, 6_000),
    ("bench-docs-10k", 10_000, 500),
    *((f"bench-docs-fill-{n}", 108_750, 4_000) for n in range(1, 9)),
)
LARGEST, SMALL = "bench-docs-100k", "bench-docs-10k"
CHUNK = 5_000


def _split(text: str) -> list[str]:
    return text.split()


# Roughly by frequency: the generator favours the front (Zipf-like).
VOCABULARY = _split("""
tax total amount income federal form year statement account date payment balance
return state paid due social security number name address employer interest
period wages withholding schedule deduction credit filing copy information
bank compensation medicare reported box beginning ending deposit other service
corporation company owner employee business expense expenses net gross refund
dividends dividend capital gain loss sale property rental mortgage loan principal
insurance premium retirement distribution contribution plan ira pension annuity
estimated quarterly revenue sales cost goods sold depreciation asset assets
liabilities equity partner partnership shareholder member llc trust estate
beneficiary fiduciary payer recipient identification tin ein ssn section code
adjustments adjusted basis proceeds transaction transactions broker securities
fund funds transfer transfers check checks withdrawal withdrawals fee fees charge
charges invoice invoices receipt receipts customer vendor purchase order item
items quantity price unit subtotal discount shipping handling terms net30
payroll register hours rate overtime bonus commission deductions benefits health
dental vision 401k hsa fsa childcare dependent care education tuition student
scholarship grant charitable donation contributions noncash cash carryover
carryforward prior current year-end fiscal calendar month january february march
april may june july august september october november december first second third
fourth quarter annual monthly weekly statement summary detail details notice
letter irs department revenue treasury internal franchise board agency audit
examination adjustment penalty penalties underpayment overpayment extension
electronic signature authorization preparer review reviewed approved signed
engagement scope responsibilities management representation financial statements
compiled compilation accountant accountants report opinion material misstatement
operating activities investing financing cash flows retained earnings accrued
accounts payable receivable inventory prepaid accumulated amortization intangible
goodwill lease leases vehicle mileage travel meals entertainment office supplies
utilities telephone internet rent repairs maintenance advertising legal
professional fees contract labor wages salaries officers pension profit sharing
""")
RARE_WORDS = _split("""
zeppelin quinoa marimba obsidian tarragon vellum gazebo kumquat falafel nebula
bonsai cobalt juniper lantern mosaic origami pergola quartz rhubarb saffron
""")
BANKS = _split("Chase Wells Citi Ally Schwab Fidelity Vanguard Truist Capital PNC")
VENDORS = _split(
    "Staples Amazon Costco Home-Depot Lowes Uber Delta Marriott Verizon Comcast"
)
FORMS_1099 = _split("INT DIV B NEC MISC R G K")
MONTHS = _split("January February March April May June July August September")

# Per category: a share of the documents, and how titles and file names look.
CATEGORY_WEIGHTS = [
    (DocumentCategory.W2, 12),
    (DocumentCategory.FORM_1099, 14),
    (DocumentCategory.FORM_1098, 4),
    (DocumentCategory.K1, 4),
    (DocumentCategory.BANK_STATEMENT, 18),
    (DocumentCategory.RECEIPT, 14),
    (DocumentCategory.INVOICE, 9),
    (DocumentCategory.TAX_RETURN, 6),
    (DocumentCategory.FINANCIAL_STATEMENT, 4),
    (DocumentCategory.ENGAGEMENT_LETTER, 3),
    (DocumentCategory.PAYROLL, 5),
    (DocumentCategory.CORRESPONDENCE, 4),
    (DocumentCategory.OTHER, 3),
]
OCR_WEIGHTS = [
    (OcrStatus.COMPLETED, 93),
    (OcrStatus.NEEDS_REVIEW, 3),
    (OcrStatus.FAILED, 2),
    (OcrStatus.PENDING, 2),
]
ACCESS_WEIGHTS = [
    (AccessLevel.STANDARD, 90),
    (AccessLevel.RESTRICTED, 7),
    (AccessLevel.CONFIDENTIAL, 3),
]
TAGS = ["Original", "Amended", "Signed", "Client copy", "Needs follow-up", "Scanned"]

COLUMNS = [
    "id",
    "organization_id",
    "client_id",
    "engagement_id",
    "created_at",
    "updated_at",
    "title",
    "original_filename",
    "file",
    "size",
    "mime_type",
    "checksum",
    "category",
    "tax_year",
    "tags",
    "description",
    "uploaded_by_id",
    "source",
    "version",
    "parent_document_id",
    "is_latest_version",
    "ocr_status",
    "ocr_confidence",
    "page_count",
    "ocr_text",
    "ocr_processed_at",
    "access_level",
]
MIME = {"pdf": "application/pdf", "jpg": "image/jpeg", "png": "image/png"}


def _weighted(pairs):
    values = [v for v, _ in pairs]
    cum = list(itertools.accumulate(w for _, w in pairs))
    return lambda rng, k=1: rng.choices(values, cum_weights=cum, k=k)


_category = _weighted(CATEGORY_WEIGHTS)
_ocr = _weighted(OCR_WEIGHTS)
_access = _weighted(ACCESS_WEIGHTS)
_WORD_CUM = list(
    itertools.accumulate(1 / (rank + 8) for rank in range(len(VOCABULARY)))
)
_LAST_CUM = list(
    itertools.accumulate(1 / (rank + 20) for rank in range(len(LAST_NAMES)))
)


@dataclass
class DocumentSeedResult:
    documents: int = 0
    seconds: float = 0.0


@dataclass
class _Firm:
    organization: Organization
    rng: random.Random
    clients: list[tuple[int, str]]  # (id, display name)
    engagements: dict[int, list[int]]
    members: list[int]
    now: datetime


def _amount(rng: random.Random) -> str:
    return f"{rng.randint(1, 99_999):,}.{rng.randint(0, 99):02d}"


def _noise(rng: random.Random) -> str:
    # What OCR makes of smudges: short letter soup, mostly unique.
    return "".join(
        rng.choices("abcdefghijklmnopqrstuvwxyz0123456789", k=rng.randint(3, 7))
    )


def _text(f: _Firm, category: str, client_name: str, year: int) -> str:
    r = f.rng
    count = r.randint(120, 320)
    words = r.choices(VOCABULARY, cum_weights=_WORD_CUM, k=count)
    for i in range(0, count, 12):
        kind = r.random()
        if kind < 0.35:
            words[i] = _amount(r)
        elif kind < 0.5:
            words[i] = f"{r.randint(1, 12):02d}/{r.randint(1, 28):02d}/{year}"
        elif kind < 0.62:
            words[i] = (
                f"{r.choice(FIRST_NAMES)} {r.choices(LAST_NAMES, cum_weights=_LAST_CUM)[0]}"
            )
        elif kind < 0.68:
            words[i] = f"XXXX{r.randint(0, 9999):04d}"
        elif kind < 0.7:
            words[i] = _noise(r)
        elif kind < 0.7006:
            words[i] = r.choice(RARE_WORDS)
    head = {
        DocumentCategory.W2: f"Form W-2 Wage and Tax Statement {year}",
        DocumentCategory.FORM_1099: f"Form 1099-{r.choice(FORMS_1099)} {year}",
        DocumentCategory.FORM_1098: f"Form 1098 Mortgage Interest Statement {year}",
        DocumentCategory.K1: f"Schedule K-1 Form 1065 Partner's Share {year}",
        DocumentCategory.BANK_STATEMENT: f"{r.choice(BANKS)} Bank account statement",
        DocumentCategory.RECEIPT: f"Receipt {r.choice(VENDORS)} thank you",
        DocumentCategory.INVOICE: f"Invoice number {r.randint(1000, 99999)}",
        DocumentCategory.TAX_RETURN: f"Form 1040 U.S. Individual Income Tax Return {year}",
    }.get(category, "")
    return f"{head} {client_name} {' '.join(words)}"


def _names(
    f: _Firm, category: str, client_name: str, year: int, n: int
) -> tuple[str, str]:
    """(title, original file name)."""
    r = f.rng
    last = client_name.split()[-1].strip(".,")
    if category == DocumentCategory.W2:
        return f"W-2 {year}", r.choice(
            [f"W-2_{year}.pdf", f"w2_{last}_{year}.pdf", f"scan_{n % 10000:04d}.pdf"]
        )
    if category == DocumentCategory.FORM_1099:
        form, bank = r.choice(FORMS_1099), r.choice(BANKS)
        return f"1099-{form} {bank} {year}", f"1099-{form}_{bank}_{year}.pdf"
    if category == DocumentCategory.FORM_1098:
        return f"1098 mortgage interest {year}", f"1098_{year}.pdf"
    if category == DocumentCategory.K1:
        return f"K-1 {year}", f"K-1_{last}_{year}.pdf"
    if category == DocumentCategory.BANK_STATEMENT:
        month = r.choice(MONTHS)
        return (
            f"{r.choice(BANKS)} statement {month} {year}",
            f"bank_statement_{year}-{MONTHS.index(month) + 1:02d}.pdf",
        )
    if category == DocumentCategory.RECEIPT:
        return f"Receipt {r.choice(VENDORS)}", f"receipt_{n % 10000:04d}.jpg"
    if category == DocumentCategory.INVOICE:
        return f"Invoice {n}", f"invoice_{n}.pdf"
    if category == DocumentCategory.TAX_RETURN:
        return f"{year} Form 1040", f"{year}_1040_{last}.pdf"
    if category == DocumentCategory.FINANCIAL_STATEMENT:
        return f"Financial statements {year}", f"financials_{year}.pdf"
    if category == DocumentCategory.ENGAGEMENT_LETTER:
        return f"Engagement letter {year}", f"engagement_letter_{year}.pdf"
    if category == DocumentCategory.PAYROLL:
        month = r.choice(MONTHS)
        return f"Payroll register {month} {year}", f"payroll_{year}_{month.lower()}.pdf"
    if category == DocumentCategory.CORRESPONDENCE:
        return r.choice(
            ["IRS notice CP2000", "State tax notice", "Letter"]
        ), f"letter_{n}.pdf"
    return f"Scan {n}", f"scan_{n % 10000:04d}.png"


def _make_chunk(f: _Firm, ids: list[int]) -> list[tuple]:
    """Rows for COPY (pure Python: runs in a thread while the last chunk inserts).
    Every twentieth document gets an older version first (two ids)."""
    r = f.rng
    org = f.organization.pk
    rows: list[tuple] = []
    ids_iter = iter(ids)
    for doc_id in ids_iter:
        client_id, client_name = r.choice(f.clients)
        category = _category(r)[0]
        created = f.now - timedelta(seconds=r.randint(0, 6 * 365 * 86400))
        year = created.year - 1 if created.month < 5 else created.year
        title, filename = _names(f, category, client_name, year, doc_id)
        ocr_status = _ocr(r)[0]
        has_text = ocr_status in (OcrStatus.COMPLETED, OcrStatus.NEEDS_REVIEW)
        engagements = f.engagements.get(client_id)
        common = {
            "client_id": client_id,
            "engagement_id": r.choice(engagements)
            if engagements and r.random() < 0.3
            else None,
            "title": title,
            "original_filename": filename,
            "mime_type": MIME[filename.rsplit(".", 1)[1]],
            "category": category,
            "tax_year": year,
            "tags": r.sample(TAGS, r.choices([0, 1, 2], [70, 25, 5])[0]),
            "description": ""
            if r.random() < 0.8
            else f"From {client_name}, {r.choice(MONTHS)}",
            "uploaded_by_id": r.choice(f.members),
            "source": "staff" if r.random() < 0.7 else "portal",
            "ocr_status": ocr_status,
            "ocr_confidence": round(r.uniform(0.82, 0.99), 3) if has_text else None,
            "page_count": r.randint(1, 12),
            "access_level": _access(r)[0],
        }
        versions = [doc_id]
        if r.random() < 0.05:
            versions.append(next(ids_iter, None))
            if versions[-1] is None:
                versions.pop()
        root = versions[0]
        for number, version_id in enumerate(versions, start=1):
            latest = number == len(versions)
            at = created - timedelta(days=3 * (len(versions) - number))
            text = _text(f, category, client_name, year) if has_text else ""
            row = {
                **common,
                "id": version_id,
                "organization_id": org,
                "created_at": at,
                "updated_at": at,
                "file": f"private/{org}/documents/bench-{version_id}",
                "size": r.randint(40_000, 4_000_000),
                "checksum": f"{version_id:064x}",
                "version": number,
                "parent_document_id": None if number == 1 else root,
                "is_latest_version": latest,
                "ocr_text": text,
                "ocr_processed_at": at if has_text else None,
            }
            rows.append(tuple(row[c] for c in COLUMNS))
    return rows


def _firm(organization: Organization, rng: random.Random) -> _Firm:
    clients = list(
        Client.objects.filter(organization=organization).values_list(
            "pk", "display_name"
        )
    )
    engagements: dict[int, list[int]] = {}
    for client_id, pk in Engagement.objects.filter(
        organization=organization
    ).values_list("client_id", "pk"):
        engagements.setdefault(client_id, []).append(pk)
    members = list(
        Membership.objects.filter(
            organization=organization, is_active=True
        ).values_list("user_id", flat=True)
    )
    return _Firm(organization, rng, clients, engagements, members, timezone.now())


def seed_documents(
    *, organization: Organization, documents: int, stdout=None
) -> DocumentSeedResult:
    """Top the firm up to `documents` document rows (versions count). Call inside
    tenant_context(organization), after its clients exist."""
    started = time.perf_counter()
    result = DocumentSeedResult()
    existing = Document.objects.filter(organization=organization).count()
    missing = documents - existing
    if missing <= 0:
        return result
    rng = random.Random(f"{organization.slug}:documents:{existing}")  # noqa: S311
    f = _firm(organization, rng)
    if not f.clients:
        raise ValueError(f"{organization.slug} has no clients to file documents under.")
    sizes = [min(CHUNK, missing - start) for start in range(0, missing, CHUNK)]
    with ThreadPoolExecutor(max_workers=1) as worker:
        pending = worker.submit(_make_chunk, f, reserve_ids(Document, sizes[0]))
        for i in range(len(sizes)):
            rows = pending.result()
            if i + 1 < len(sizes):
                pending = worker.submit(
                    _make_chunk, f, reserve_ids(Document, sizes[i + 1])
                )
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL jit = off")
                    cursor.execute("SET LOCAL synchronous_commit = off")
                result.documents += copy_rows(Document, COLUMNS, rows)
            if stdout is not None and (i % 4 == 3 or i + 1 == len(sizes)):
                stdout.write(
                    f"  {organization.slug}: {existing + result.documents:,} documents"
                    f" ({time.perf_counter() - started:.0f} s)"
                )
    result.seconds = time.perf_counter() - started
    return result


def seed_document_firms(*, stdout=None, firms=DOCUMENT_FIRMS) -> int:
    """Every bench documents firm, topped up (members, clients, documents); then
    VACUUM ANALYZE (statistics, and the GIN pending lists merged). Returns the
    number of documents added."""
    added = 0
    for slug, documents, clients in firms:
        bench = bench_firm_ensure(slug)
        with tenant_context(bench.organization):
            seed_clients(
                organization=bench.organization,
                clients=clients,
                notes_per_client=0,
                stdout=None,
            )
            result = seed_documents(
                organization=bench.organization, documents=documents, stdout=stdout
            )
        added += result.documents
        if stdout is not None and result.documents:
            stdout.write(
                f"{slug}: {result.documents:,} documents added in {result.seconds:.0f} s"
            )
    if added:
        # Outside a transaction also VACUUM: it merges the GIN pending lists.
        statistics_refresh(["documents_document", "documents_searchword"], vacuum=True)
    return added
