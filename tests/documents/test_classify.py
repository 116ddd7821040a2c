"""Category and tax year suggested from a document's text (documents.classify)."""

from __future__ import annotations

from datetime import date

import pytest

from documents.classify import suggest, tax_year_of
from tests.documents import scans

TODAY = date(2026, 3, 1)


def lines(*rows: str) -> str:
    return "\n".join(rows)


@pytest.mark.parametrize(
    ("text", "category", "reason"),
    [
        (lines(*scans.W2_LINES), "w2", "Found “Wage and Tax Statement”"),
        (lines(*scans.FORM_1099_LINES), "1099", "Found “Form 1099-INT”"),
        (
            lines(
                "Form 1099-NEC 2025",
                "Nonemployee compensation 18,400.00",
                "PAYER'S name Acme Design LLC",
                "RECIPIENT'S TIN ***-**-1234",
            ),
            "1099",
            "Found “Form 1099-NEC”",
        ),
        (
            lines(
                "Form 1098 Mortgage Interest Statement 2025",
                "Mortgage interest received from payer(s)/borrower(s) 9,812.44",
                "Outstanding mortgage principal 312,000.00",
            ),
            "1098",
            "Found “Mortgage Interest Statement”",
        ),
        (
            lines(
                "Schedule K-1 (Form 1065) 2025",
                "Partner's Share of Income, Deductions, Credits, etc.",
                "Ordinary business income (loss) 42,118",
            ),
            "k1",
            "Found “Schedule K-1”",
        ),
        (
            lines(*scans.BANK_STATEMENT_LINES),
            "bank_statement",
            "Found “Statement period”",
        ),
        (
            lines(
                "INVOICE",
                "Invoice number 2025-0042  Invoice date 04/02/2025",
                "Bill to: Jordan Example",
                "Consulting, March 2025 1,200.00",
                "Amount due 1,200.00  Payment terms: Net 30",
            ),
            "invoice",
            "Found “Bill to”",
        ),
        (lines(*scans.RECEIPT_LINES), "receipt", "Found “Subtotal”"),
        (
            lines(
                "Form 1040 U.S. Individual Income Tax Return 2025",
                "Filing Status: Married filing jointly",
                "Adjusted gross income 142,300",
            ),
            "tax_return",
            "Found “Individual Income Tax Return”",
        ),
    ],
    ids=[
        "w2",
        "1099-int",
        "1099-nec",
        "1098",
        "k1",
        "bank",
        "invoice",
        "receipt",
        "1040",
    ],
)
def test_each_kind_of_document_is_recognised_with_its_reasons(text, category, reason):
    suggestion = suggest(text, today=TODAY)

    assert suggestion.category == category
    assert suggestion.confidence >= 0.6
    assert reason in suggestion.reasons


def test_many_clues_make_a_surer_suggestion_than_one():
    one = suggest("Wage and Tax Statement", today=TODAY)
    many = suggest(lines(*scans.W2_LINES), today=TODAY)

    assert one.category == many.category == "w2"
    assert one.confidence < 0.9 <= many.confidence


def test_a_close_runner_up_lowers_the_confidence_and_is_named():
    mixed = lines(
        "Riverside Savings Bank Account Statement",
        "Statement period January 1, 2025 to January 31, 2025",
        "Form 1099-INT Interest Income 2025",
        "Ending balance 11,735.24",
    )
    suggestion = suggest(mixed, today=TODAY)

    assert suggestion.confidence < 0.9
    assert any(reason.startswith("Also reads like a") for reason in suggestion.reasons)


def test_ocr_noise_in_punctuation_does_not_hide_a_form():
    noisy = "ae FORM W 2 >- Wage’ and Tax| Statement 2025 Soe\nWages. tips, other comp"
    assert suggest(noisy, today=TODAY).category == "w2"


def test_text_that_says_nothing_clear_gets_no_suggestion():
    suggestion = suggest("Meeting notes: call Jordan about the garden", today=TODAY)

    assert suggestion.category == ""
    assert suggestion.reasons == []
    assert suggest("", today=TODAY).category == ""


def test_the_year_next_to_the_form_name_is_the_tax_year():
    text = lines(
        "Form W-2 Wage and Tax Statement 2025",
        "Printed 01/15/2026",
        "Employee hired 2019",
    )
    year, confidence = tax_year_of(text, today=TODAY)

    assert year == 2025
    assert confidence >= 0.6


def test_a_receipt_takes_the_year_of_its_date():
    assert tax_year_of(lines(*scans.RECEIPT_LINES), today=TODAY) == (2025, 1.0)


def test_amounts_and_implausible_years_are_not_tax_years():
    text = "Balance 2,025.00 Total 1,987.10 Founded 1850 Valid to 2999 Ref 120245"
    assert tax_year_of(text, today=TODAY) == (None, 0.0)


def test_next_year_is_plausible_but_the_year_after_is_not():
    assert tax_year_of("Tax year 2027", today=TODAY)[0] == 2027
    assert tax_year_of("Tax year 2028", today=TODAY)[0] is None
