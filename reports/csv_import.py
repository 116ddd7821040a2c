"""A client's trial balance from a CSV file: upload, preview with row errors, then
all or nothing (the shape of the client import, clients/services/imports.py).

The file has a header row and one row an account: its number (optional), name,
type (QuickBooks' account types, or a common name for one), subtype (optional),
and a debit or a credit. Checks, by row: an unknown account type, an amount that
is not a number or is negative, a debit and a credit both set, the same account
twice, a name or number held by another of the client's accounts; and for the
file: the debits and credits do not balance. Nothing is written until the
preview shows no error and the user confirms; `trial_balance_import_apply` then
checks again and records the whole trial balance through
`reports.services.trial_balance_record`.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from advisoros.accounts.models import User
from advisoros.csv_safe import csv_safe
from clients.models import Client
from clients.services.imports import import_decode
from reports.models import (
    ZERO,
    AccountType,
    ImportStatus,
    LedgerSource,
    TrialBalance,
    TrialBalanceImport,
    cents,
)
from reports.services import (
    MAX_AMOUNT,
    AccountData,
    BalanceRow,
    balance_rows_check,
    ledger_accounts_match,
    trial_balance_record,
)

__all__ = ["import_decode"]

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5_000
PREVIEW_ROWS = 500
MAX_STORED_MESSAGES = 1_000

COLUMNS = (
    ("account_number", "1000", "Optional; matched before the name when given."),
    ("account_name", "Checking", "Required."),
    ("account_type", "Bank", "Required: one of QuickBooks' account types."),
    ("account_subtype", "Checking", "Optional (QuickBooks' detail type)."),
    ("debit", "12500.00", "A debit balance, or empty."),
    ("credit", "", "A credit balance, or empty."),
)
COLUMN_NAMES = tuple(name for name, _, _ in COLUMNS)
ALIASES = {
    "number": "account_number",
    "account_no": "account_number",
    "no": "account_number",
    "code": "account_number",
    "account_code": "account_number",
    "account": "account_name",
    "name": "account_name",
    "type": "account_type",
    "subtype": "account_subtype",
    "detail_type": "account_subtype",
    "dr": "debit",
    "cr": "credit",
}

# Type names other books and people use, folded (see _fold), to QuickBooks' type.
TYPE_ALIASES = {
    "ar": AccountType.ACCOUNTS_RECEIVABLE,
    "accountsreceivablear": AccountType.ACCOUNTS_RECEIVABLE,
    "receivable": AccountType.ACCOUNTS_RECEIVABLE,
    "ap": AccountType.ACCOUNTS_PAYABLE,
    "accountspayableap": AccountType.ACCOUNTS_PAYABLE,
    "payable": AccountType.ACCOUNTS_PAYABLE,
    "cash": AccountType.BANK,
    "currentasset": AccountType.OTHER_CURRENT_ASSET,
    "fixedassets": AccountType.FIXED_ASSET,
    "noncurrentasset": AccountType.OTHER_ASSET,
    "currentliability": AccountType.OTHER_CURRENT_LIABILITY,
    "longtermliabilities": AccountType.LONG_TERM_LIABILITY,
    "noncurrentliability": AccountType.LONG_TERM_LIABILITY,
    "revenue": AccountType.INCOME,
    "sales": AccountType.INCOME,
    "otherrevenue": AccountType.OTHER_INCOME,
    "cogs": AccountType.COST_OF_GOODS_SOLD,
    "costofsales": AccountType.COST_OF_GOODS_SOLD,
    "directcosts": AccountType.COST_OF_GOODS_SOLD,
    "expenses": AccountType.EXPENSE,
    "overheads": AccountType.EXPENSE,
    "operatingexpense": AccountType.EXPENSE,
}


def _fold(text: str) -> str:
    return re.sub(r"[^a-z]", "", text.lower())


_TYPES = {_fold(value): value for value in AccountType.values} | {
    _fold(label): value for value, label in AccountType.choices
}


def account_type_parse(text: str) -> str | None:
    """QuickBooks' account type for what a file says ("Accounts Receivable (A/R)",
    "AccountsReceivable", "COGS"), or None."""
    folded = _fold(text)
    return _TYPES.get(folded) or TYPE_ALIASES.get(folded)


def amount_parse(text: str) -> Decimal:
    """ "1,234.50", "$1234.5", "(12.00)" (negative) -> Decimal to the cent; empty -> 0.
    Raises ValueError for anything else."""
    cleaned = re.sub(r"[\s,$€£]", "", text)
    negative = cleaned.startswith("(") and cleaned.endswith(")")
    if negative:
        cleaned = cleaned[1:-1]
    if not cleaned or cleaned in ("-", "—"):
        return ZERO
    try:
        value = Decimal(cleaned)
    except InvalidOperation as exc:
        raise ValueError(text) from exc
    if not value.is_finite():
        raise ValueError(text)
    return cents(-value if negative else value)


def template_csv() -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMN_NAMES)
    writer.writerow(csv_safe(example) for _, example, _ in COLUMNS)
    writer.writerow(["3000", "Owner's equity", "Equity", "", "", "12500.00"])
    return out.getvalue()


@dataclass
class CsvRow:
    number: int  # as a spreadsheet numbers it: the header is row 1
    values: dict[str, str]
    messages: list[dict] = field(default_factory=list)
    data: BalanceRow | None = None

    def error(self, column: str, message: str) -> None:
        self.messages.append(
            {"row": self.number, "column": column, "message": message, "level": "error"}
        )

    def note(self, column: str, message: str) -> None:
        self.messages.append(
            {"row": self.number, "column": column, "message": message, "level": "info"}
        )

    @property
    def errors(self) -> list[dict]:
        return [m for m in self.messages if m["level"] == "error"]


@dataclass
class Checked:
    rows: list[CsvRow]
    messages: list[dict]  # every row's and the file's (row 0), capped
    error_rows: int  # rows with an error, plus one for a file-wide error
    total_debit: Decimal
    total_credit: Decimal


def _header_key(cell: str) -> str:
    key = re.sub(r"[\s\-/.#]+", "_", cell.replace("\ufeff", "").strip().lower())
    key = key.strip("_")
    return ALIASES.get(key, key)


def csv_parse(text: str) -> list[CsvRow]:
    """The file's rows with their known columns; ValidationError when the file is
    not a table we can read."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[CsvRow] = []
    try:
        header = next(reader, None)
        if header is None or not any(c.strip() for c in header):
            raise ValidationError("The file is empty.", code="empty")
        keys = [_header_key(c) for c in header]
        missing = [c for c in ("account_name", "account_type") if c not in keys]
        if missing or not ({"debit", "credit"} & set(keys)):
            raise ValidationError(
                "The first row must name the columns: account_name, account_type, "
                "debit and credit (account_number and account_subtype optional). "
                "Download the template for an example.",
                code="no_columns",
            )
        for number, record in enumerate(reader, start=2):
            if not any(cell.strip() for cell in record):
                continue
            if len(rows) >= MAX_ROWS:
                raise ValidationError(
                    f"The file has more than {MAX_ROWS:,} accounts.",
                    code="too_many_rows",
                )
            values = {
                key: cell.strip()
                for key, cell in zip(keys, record, strict=False)
                if key in COLUMN_NAMES
            }
            rows.append(CsvRow(number=number, values=values))
    except csv.Error as exc:
        raise ValidationError(
            f"The file is not valid CSV near line {reader.line_num} ({exc}): "
            "a quote is probably not closed.",
            code="malformed",
        ) from exc
    if not rows:
        raise ValidationError(
            "The file has a header row but no accounts.", code="no_rows"
        )
    return rows


def csv_check(*, client: Client, rows: list[CsvRow]) -> Checked:
    """Every row's problems and the file's (one query: the client's accounts)."""
    for row in rows:
        values = row.values
        account_type = account_type_parse(values.get("account_type", ""))
        if not values.get("account_name"):
            row.error("account_name", "The account has no name.")
        if account_type is None:
            given = values.get("account_type", "")
            row.error(
                "account_type",
                f"“{given}” is not an account type: use one of "
                + ", ".join(AccountType.values)
                + "."
                if given
                else "The account has no type.",
            )
        amounts = {}
        for column in ("debit", "credit"):
            try:
                amounts[column] = amount_parse(values.get(column, ""))
            except ValueError:
                row.error(column, f"“{values[column]}” is not a number.")
                amounts[column] = ZERO
        if not row.errors:
            row.data = BalanceRow(
                account=AccountData(
                    name=values["account_name"],
                    account_type=account_type,
                    number=values.get("account_number", ""),
                    subtype=values.get("account_subtype", ""),
                ),
                debit=amounts["debit"],
                credit=amounts["credit"],
            )
    good = [row for row in rows if row.data is not None]
    data = [row.data for row in good]
    file_messages = []
    for problem in balance_rows_check(data):
        if problem.index >= 0:
            good[problem.index].error(problem.column, problem.message)
    if len(good) == len(rows):
        debit = sum((d.debit for d in data), ZERO)
        credit = sum((d.credit for d in data), ZERO)
        if debit != credit:
            file_messages.append(
                {
                    "row": 0,
                    "column": "",
                    "level": "error",
                    "message": f"The trial balance does not balance: debits "
                    f"{debit:,.2f}, credits {credit:,.2f} (a difference of "
                    f"{abs(debit - credit):,.2f}). Nothing can be imported until "
                    "it does.",
                }
            )
    clean = [row for row in good if not row.errors]
    if clean:
        matched = ledger_accounts_match(
            client=client, accounts=[row.data.account for row in clean]
        )
        for problem in matched.problems:
            clean[problem.index].error(problem.column, problem.message)
        for row, found in zip(clean, matched.accounts, strict=True):
            _note_change(row, found)
    # Amounts of the readable rows, for the preview's totals line; a row
    # refused as too large is left out (its row says so), or the totals would
    # not fit their columns (5,000 rows of the largest amount do).
    sized = [r.data for r in good if max(r.data.debit, r.data.credit) <= MAX_AMOUNT]
    total_debit = sum((d.debit for d in sized), ZERO)
    total_credit = sum((d.credit for d in sized), ZERO)
    messages = [m for r in rows for m in r.messages] + file_messages
    return Checked(
        rows=rows,
        messages=messages[:MAX_STORED_MESSAGES],
        error_rows=sum(1 for r in rows if r.errors) + len(file_messages),
        total_debit=total_debit,
        total_credit=total_credit,
    )


def _note_change(row: CsvRow, found) -> None:
    """What importing the row does to the client's chart, for the preview."""
    if row.errors:
        return
    data = row.data.account
    if found is None:
        row.note("account_name", "A new account in the client's chart.")
        return
    if " ".join(data.name.split()) != found.name:
        row.note("account_name", f"Renames the account “{found.name}”.")
    if data.account_type != found.account_type:
        row.note(
            "account_type",
            f"Changes the account's type from {found.account_type}.",
        )


def trial_balance_import_create(
    *, client: Client, user: User, period_end: date, filename: str, text: str
) -> TrialBalanceImport:
    """Parse and check an upload; keep it for the preview. Writes no ledger row.

    A file that cannot be read as a trial balance raises ValidationError.
    """
    rows = csv_parse(text)
    checked = csv_check(client=client, rows=rows)
    return TrialBalanceImport.objects.create(
        organization_id=client.organization_id,
        client=client,
        created_by=user,
        period_end=period_end,
        filename=filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:255],
        content=text,
        row_count=len(rows),
        error_count=checked.error_rows,
        errors=checked.messages,
        total_debit=checked.total_debit,
        total_credit=checked.total_credit,
    )


def trial_balance_import_apply(
    *, trial_balance_import: TrialBalanceImport, user: User | None
) -> str:
    """Import the checked file, all of it or nothing: "imported",
    "already_imported", or "invalid" (errors now, kept for the preview)."""
    with transaction.atomic():
        locked = TrialBalanceImport.objects.select_for_update().get(
            pk=trial_balance_import.pk
        )
        if locked.status == ImportStatus.IMPORTED:
            return "already_imported"
        client = Client.objects.get(pk=locked.client_id)
        try:
            rows = csv_parse(locked.content)
        except ValidationError as exc:
            locked.error_count = 1
            locked.errors = [
                {"row": 0, "column": "", "level": "error", "message": m}
                for m in exc.messages
            ]
            locked.save(update_fields=["error_count", "errors", "updated_at"])
            return "invalid"
        checked = csv_check(client=client, rows=rows)
        if checked.error_rows:
            locked.error_count = checked.error_rows
            locked.errors = checked.messages
            locked.save(update_fields=["error_count", "errors", "updated_at"])
            return "invalid"
        trial_balance = trial_balance_record(
            client=client,
            period_end=locked.period_end,
            rows=[row.data for row in rows],
            source=LedgerSource.CSV,
            raw=[row.values for row in rows],
            user=user,
        )
        locked.status = ImportStatus.IMPORTED
        locked.trial_balance = trial_balance
        locked.imported_at = timezone.now()
        locked.save(
            update_fields=["status", "trial_balance", "imported_at", "updated_at"]
        )
    return "imported"


def replaces(trial_balance_import: TrialBalanceImport) -> bool:
    """Whether importing would replace the client's snapshot at that date."""
    return TrialBalance.objects.filter(
        client_id=trial_balance_import.client_id,
        period_end=trial_balance_import.period_end,
    ).exists()
