"""What a document is, guessed from its text: category, tax year, how sure, why.

Rules with weights, no learning. Each category has phrases that point to it,
each with a weight (how strongly that phrase alone says "this is a W-2"). The
weights of the phrases found combine as independent evidence (1 - product of
(1 - weight)), so two medium clues beat one, and many clues approach but never
reach 1. A close runner-up lowers the confidence: a page that reads as a 1099
and nearly as much as a bank statement is not a sure 1099.

Phrases are matched on a normalised text (lower case, every run of punctuation
and spaces one space), which forgives OCR's stray quotes, pipes and hyphens:
"Form W-2" and "FORM W 2" are the same; "1099-INT" reads "1099 int".

The tax year is the year printed most prominently: next to the form's name or
"tax year"/"calendar year" a year counts three times, elsewhere once; only years
from 1990 to next year count.

Pure functions: the OCR service stores the suggestion, the review page shows it.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from django.utils import timezone

from documents.models import DocumentCategory as Category

# Below this, no category is suggested at all.
MIN_CONFIDENCE = 0.3


@dataclass(frozen=True)
class Clue:
    pattern: re.Pattern[str]
    weight: float
    label: str  # what was found, for people ("Form W-2"; "{variant}": "-INT")

    def found(self, plain: str) -> str | None:
        """The label when the clue is in the normalised text, else None."""
        match = self.pattern.search(plain)
        if match is None:
            return None
        variant = match.groupdict().get("variant")
        return self.label.format(variant=f"-{variant.upper()}" if variant else "")


def _clue(pattern: str, weight: float, label: str) -> Clue:
    return Clue(re.compile(rf"\b(?:{pattern})\b"), weight, label)


_FORM_1099_VARIANTS = (
    "nec|misc|int|div|b|r|g|k|s|sa|q|c|patr|oid|ltc|h|a|da|qa|cap|ls|sb"
)

RULES: dict[str, tuple[Clue, ...]] = {
    Category.W2: (
        _clue(r"form w ?2", 0.6, "Form W-2"),
        _clue(r"wage and tax statement", 0.7, "Wage and Tax Statement"),
        _clue(r"wages tips other comp\w*", 0.4, "Wages, tips, other compensation"),
        _clue(r"social security wages", 0.3, "Social security wages"),
        _clue(r"medicare wages( and tips)?", 0.3, "Medicare wages"),
        _clue(r"w 2", 0.2, "W-2"),
    ),
    Category.FORM_1099: (
        _clue(
            rf"form 1099( (?P<variant>{_FORM_1099_VARIANTS}))?",
            0.7,
            "Form 1099{variant}",
        ),
        _clue(rf"1099 (?P<variant>{_FORM_1099_VARIANTS})", 0.4, "1099{variant}"),
        _clue(r"nonemployee compensation", 0.5, "Nonemployee compensation"),
        _clue(r"miscellaneous (information|income)", 0.4, "Miscellaneous income"),
        _clue(r"interest income", 0.3, "Interest income"),
        _clue(r"dividends and distributions", 0.5, "Dividends and distributions"),
        _clue(r"ordinary dividends", 0.3, "Ordinary dividends"),
        _clue(r"distributions from pensions", 0.5, "Distributions from pensions"),
        _clue(r"proceeds from broker", 0.5, "Proceeds from broker transactions"),
        _clue(r"certain government payments", 0.5, "Certain government payments"),
        _clue(
            r"payment card and third party network",
            0.5,
            "Payment card and third party network transactions",
        ),
        _clue(r"payer s (name|tin)|payer name", 0.2, "Payer"),
        _clue(r"recipient s (name|tin)|recipient name", 0.2, "Recipient"),
    ),
    Category.FORM_1098: (
        _clue(r"form 1098( (?P<variant>e|t|c|q|ma))?", 0.7, "Form 1098{variant}"),
        _clue(r"mortgage interest statement", 0.6, "Mortgage Interest Statement"),
        _clue(r"mortgage interest received", 0.4, "Mortgage interest received"),
        _clue(r"outstanding mortgage principal", 0.3, "Outstanding principal"),
        _clue(r"student loan interest statement", 0.6, "Student Loan Interest"),
        _clue(r"tuition statement", 0.5, "Tuition Statement"),
    ),
    Category.K1: (
        _clue(r"schedule k ?1", 0.7, "Schedule K-1"),
        _clue(
            r"(partner|shareholder|beneficiary) s share of (current year )?income",
            0.6,
            "Share of income, deductions, credits",
        ),
        _clue(r"k ?1", 0.2, "K-1"),
    ),
    Category.BANK_STATEMENT: (
        _clue(
            r"bank statement|account statement|statement of account",
            0.4,
            "Account statement",
        ),
        _clue(r"statement period|statement date", 0.4, "Statement period"),
        _clue(r"(beginning|opening|previous) balance", 0.3, "Beginning balance"),
        _clue(r"(ending|closing|new) balance", 0.3, "Ending balance"),
        _clue(r"deposits( and (other )?credits)?", 0.2, "Deposits"),
        _clue(r"withdrawals( and (other )?debits)?", 0.2, "Withdrawals"),
        _clue(r"(checking|savings) account|account number", 0.1, "Account number"),
    ),
    Category.INVOICE: (
        _clue(r"invoice", 0.4, "Invoice"),
        _clue(r"invoice (number|no|date)", 0.4, "Invoice number"),
        _clue(r"bill to|billed to", 0.3, "Bill to"),
        _clue(r"(amount|balance|total) due", 0.3, "Amount due"),
        _clue(r"payment terms|net (15|30|60)|due date", 0.2, "Payment terms"),
        _clue(r"remit to|remittance", 0.2, "Remit to"),
    ),
    Category.RECEIPT: (
        _clue(r"receipt", 0.4, "Receipt"),
        _clue(r"subtotal|sub total", 0.3, "Subtotal"),
        _clue(r"sales tax", 0.2, "Sales tax"),
        _clue(r"thank you for (your purchase|shopping|your business)", 0.3, "Thanks"),
        _clue(
            r"paid by card|cash tendered|change due|auth(orization)? code|approved",
            0.3,
            "Payment by card or cash",
        ),
    ),
    Category.TAX_RETURN: (
        _clue(r"u s individual income tax return", 0.8, "Individual Income Tax Return"),
        _clue(r"u s return of partnership income", 0.8, "Return of Partnership Income"),
        _clue(
            r"u s (corporation income tax return|income tax return for an s corporation)",
            0.8,
            "Corporation Income Tax Return",
        ),
        _clue(
            r"income tax return for estates and trusts",
            0.8,
            "Income Tax Return for Estates and Trusts",
        ),
        _clue(r"form 1040( sr| nr| x)?", 0.4, "Form 1040"),
        _clue(r"adjusted gross income", 0.3, "Adjusted gross income"),
        _clue(r"filing status", 0.3, "Filing status"),
    ),
    Category.PAYROLL: (
        _clue(r"payroll (register|summary|journal|report)", 0.6, "Payroll register"),
        _clue(r"pay stub|earnings statement|pay period", 0.4, "Pay period"),
        _clue(r"gross pay", 0.3, "Gross pay"),
        _clue(r"net pay", 0.3, "Net pay"),
    ),
    Category.FINANCIAL_STATEMENT: (
        _clue(r"balance sheet", 0.4, "Balance sheet"),
        _clue(
            r"income statement|profit and loss|statement of operations",
            0.4,
            "Income statement",
        ),
        _clue(r"statement of cash flows", 0.4, "Statement of cash flows"),
        _clue(r"total assets", 0.2, "Total assets"),
        _clue(
            r"total liabilities and (equity|stockholders|shareholders)", 0.3, "Equity"
        ),
    ),
    Category.ENGAGEMENT_LETTER: (
        _clue(r"engagement letter", 0.6, "Engagement letter"),
        _clue(
            r"this letter (is to )?confirms? (our|the) (understanding|terms)",
            0.5,
            "Confirms our understanding",
        ),
        _clue(r"scope of (our )?(services|the engagement)", 0.3, "Scope of services"),
        _clue(r"professional fees", 0.2, "Professional fees"),
    ),
    Category.CORRESPONDENCE: (
        _clue(r"notice (cp|lt) ?\d{2,4}[a-z]?", 0.7, "IRS notice"),
        _clue(r"we (changed|made changes to) your", 0.4, "Changes to your return"),
    ),
}

# Form names near which a year is the tax year.
_YEAR_CONTEXT = re.compile(
    r"(tax year|calendar year|for year|year ended|year ending|form w-?\s?2|"
    r"form 10\d\d[a-z-]*|schedule k-?1|statement)[^\n]{0,40}$",
    re.IGNORECASE,
)
_YEAR = re.compile(r"(?<![\d,.])(?:19|20)\d{2}(?![\d,]|\.\d)")


@dataclass(frozen=True)
class Suggestion:
    category: str  # "" when no category is clear
    confidence: float  # of the category, 0..1
    tax_year: int | None
    tax_year_confidence: float
    reasons: list[str] = field(default_factory=list)


def normalise(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


def _combined(weights: list[float]) -> float:
    remaining = 1.0
    for weight in weights:
        remaining *= 1 - weight
    return 1 - remaining


def category_scores(text: str) -> dict[str, tuple[float, list[str]]]:
    """Each category with a score above 0: (score, labels of the clues found)."""
    plain = f" {normalise(text)} "
    scores = {}
    for category, clues in RULES.items():
        found = [(clue, clue.found(plain)) for clue in clues]
        found = [(clue, label) for clue, label in found if label is not None]
        # "W-2" adds nothing where "Form W-2" was found: one fact, counted once.
        labels = [label for _, label in found]
        found = [
            (clue, label)
            for clue, label in found
            if not any(label != other and label in other for other in labels)
        ]
        if found:
            scores[category] = (
                _combined([clue.weight for clue, _ in found]),
                [label for _, label in found],
            )
    return scores


def tax_year_of(text: str, *, today: date | None = None) -> tuple[int | None, float]:
    """The most prominent plausible year in the text and how sure (its share)."""
    latest = (today or timezone.now().date()).year + 1
    votes: Counter[int] = Counter()
    for match in _YEAR.finditer(text):
        year = int(match.group())
        if not 1990 <= year <= latest:
            continue
        before = text[max(0, match.start() - 60) : match.start()]
        votes[year] += 3 if _YEAR_CONTEXT.search(before) else 1
    if not votes:
        return None, 0.0
    (year, best), *rest = votes.most_common(2)
    second = rest[0][1] if rest else 0
    return year, round(best / (best + second), 2)


def suggest(text: str, *, today: date | None = None) -> Suggestion:
    """The category and tax year the text points to, how sure, and why."""
    scores = category_scores(text)
    tax_year, year_confidence = tax_year_of(text, today=today)
    ranked = sorted(scores.items(), key=lambda item: item[1][0], reverse=True)
    if not ranked:
        return Suggestion("", 0.0, tax_year, year_confidence, [])
    category, (best, labels) = ranked[0]
    second = ranked[1][1][0] if len(ranked) > 1 else 0.0
    # A runner-up as strong as the winner halves the confidence.
    confidence = round(best * (1 - second / 2), 2)
    reasons = [f"Found “{label}”" for label in labels]
    if len(ranked) > 1 and second >= 0.3:
        runner_up = Category(ranked[1][0]).label
        reasons.append(f"Also reads like a {runner_up} ({second:.0%})")
    if tax_year is not None:
        reasons.append(f"Year {tax_year} printed most prominently")
    if confidence < MIN_CONFIDENCE:
        return Suggestion("", confidence, tax_year, year_confidence, reasons)
    return Suggestion(category, confidence, tax_year, year_confidence, reasons)
