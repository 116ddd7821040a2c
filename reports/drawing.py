"""A client's statements drawn as files: PDF (WeasyPrint) and XLSX (XlsxWriter).

Both walk the same `reports.statements.Statement` objects the pages show, so a
file holds the page's figures: the PDF's table rows are the page's own
(`reports.rendering`), the workbook writes each figure as a number with an
accounting format. Pure drawing: the caller has loaded what is drawn.

Nothing leaves the machine while a PDF is drawn: the template holds its own
styles and the URL fetcher serves the firm's logo from the storage and refuses
every other address (billing.pdf.FirmLogoFetcher, the invoices' one).

The workbook is written in XlsxWriter's constant-memory mode (each row goes to
a temporary file as it is written, in order): a 2,000-account statement holds
a few rows in memory, never the sheet.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import xlsxwriter
from django.template.loader import render_to_string
from weasyprint import HTML

from advisoros.tenancy.branding import brand_palette
from advisoros.tenancy.models import Organization
from billing.pdf import LOGO_URL, FirmLogoFetcher
from clients.models import Client
from reports.rendering import NO_DATA, statement_rows_html
from reports.statements import Statement

# Excel's own Accounting format: thousands separators, negatives in
# parentheses, zero as a dash, aligned on the decimal point.
ACCOUNTING = '_(* #,##0.00_);_(* (#,##0.00);_(* "-"??_);_(@_)'
SHEET_NAME_MAX = 31  # Excel's limit


@dataclass(frozen=True)
class Heading:
    """What every file says above its figures."""

    organization: Organization
    client: Client
    title: str  # the template's ("Financial statements")
    branded: bool = True
    footer: str = ""


def _as_at(report: Statement) -> bool:
    return report.kind in ("balance_sheet", "trial_balance")


def statement_pdf_html(heading: Heading, reports: Sequence[Statement]) -> str:
    organization = heading.organization
    palette = brand_palette(organization.brand_color)
    if not heading.branded:  # plain: black on white, no logo
        palette = {
            "brand": "#e5e7eb",
            "brand_ink": "#111827",
            "link": "#111827",
            "soft": "#f3f4f6",
        }
    ctx = {
        "organization": organization,
        "client": heading.client,
        "title": heading.title,
        "footer": heading.footer,
        "branded": heading.branded,
        "palette": palette,
        "logo_url": LOGO_URL if heading.branded and organization.logo else "",
        "statements": [
            {
                "report": report,
                "as_at": _as_at(report),
                "rows_html": statement_rows_html(report),
                # The label column's share of the width: what the figures leave.
                "label_width": max(
                    34, 100 - 13 * len(report.columns) * len(report.sub_columns)
                ),
            }
            for report in reports
        ],
    }
    return render_to_string("reports/statement_pdf.html", ctx)


def statement_pdf_render(heading: Heading, reports: Sequence[Statement]) -> bytes:
    html = HTML(
        string=statement_pdf_html(heading, reports),
        url_fetcher=FirmLogoFetcher(heading.organization),
    )
    return html.write_pdf()


def _sheet_names(reports: Sequence[Statement]) -> list[str]:
    names: list[str] = []
    for report in reports:
        name = report.title[:SHEET_NAME_MAX]
        n = 2
        while name in names:
            name = f"{report.title[: SHEET_NAME_MAX - 4]} ({n})"
            n += 1
        names.append(name)
    return names


def statement_xlsx_render(heading: Heading, reports: Sequence[Statement]) -> bytes:
    """A workbook with a sheet per statement: the heading, the column labels,
    then each row, its figures as numbers (a dash as text where a column has
    no data). No formulas: each total is the figure the page shows."""
    out = io.BytesIO()
    # Not in_memory: it would switch constant_memory off.
    workbook = xlsxwriter.Workbook(out, {"constant_memory": True})
    workbook.set_properties(
        {
            "title": f"{heading.title}: {heading.client.display_name}",
            "author": heading.organization.name,
            "company": heading.organization.name,
        }
    )
    bold = workbook.add_format({"bold": True})
    big = workbook.add_format({"bold": True, "font_size": 14})
    muted = workbook.add_format({"font_color": "#4b5563"})
    header = workbook.add_format({"bold": True, "bottom": 1, "align": "right"})
    header_left = workbook.add_format({"bold": True, "bottom": 1})
    labels = {
        (kind, level): workbook.add_format({"indent": level, "bold": kind != "account"})
        for kind in ("heading", "account", "subtotal", "total", "grand", "note")
        for level in range(4)
    }
    money = workbook.add_format({"num_format": ACCOUNTING})
    strong_money = {
        "subtotal": workbook.add_format(
            {"num_format": ACCOUNTING, "bold": True, "top": 1}
        ),
        "total": workbook.add_format(
            {"num_format": ACCOUNTING, "bold": True, "top": 1}
        ),
        "grand": workbook.add_format(
            {"num_format": ACCOUNTING, "bold": True, "top": 1, "bottom": 6}
        ),
    }
    no_data = workbook.add_format({"align": "right", "font_color": "#4b5563"})

    for report, name in zip(reports, _sheet_names(reports), strict=True):
        sheet = workbook.add_worksheet(name)
        width = len(report.columns) * len(report.sub_columns)
        sheet.set_column(0, 0, 48)
        sheet.set_column(1, width, 16)
        sheet.write_string(0, 0, heading.organization.name, big)
        sheet.write_string(1, 0, heading.client.display_name, bold)
        period = report.columns[0].label if report.columns else ""
        sheet.write_string(
            2,
            0,
            f"{report.title}, {'as at ' if _as_at(report) else ''}{period}",
            muted,
        )
        row = 4
        if len(report.sub_columns) > 1:
            col = 1
            for column in report.columns:
                sheet.write_string(row, col, column.label, header)
                col += len(report.sub_columns)
            row += 1
        sheet.write_string(row, 0, "Account", header_left)
        for col, (column, sub) in enumerate(report.flat_columns, start=1):
            sheet.write_string(row, col, sub or column.label, header)
        sheet.freeze_panes(row + 1, 1)
        row += 1
        if not report.has_data:
            sheet.write_string(row, 0, "No data for this period.", muted)
            continue
        for line in report.rows:
            sheet.write_string(
                row, 0, line.label, labels[line.kind, min(line.level, 3)]
            )
            figure_format = strong_money.get(line.kind, money)
            for col, value in enumerate(line.amounts, start=1):
                if value is None:
                    sheet.write_string(row, col, NO_DATA, no_data)
                else:
                    sheet.write_number(row, col, value, figure_format)
            row += 1
        if heading.footer:
            sheet.write_string(row + 1, 0, heading.footer, muted)
    workbook.close()
    return out.getvalue()
