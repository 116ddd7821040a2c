"""A client's ledger from the client's own QuickBooks company (a client-kind
connection): its chart of accounts and a trial balance per month-end, written
through the ledger's one write path (reports.services).

A pull (`client_ledger_pull`, from the job in tasks_ledger.py) goes:

1. **Checks the fiscal year**: QuickBooks' `FiscalYearStartMonth` must be the
   month after the client's fiscal year end (clients.Client), or the
   year-to-date figures of the two would start in different months: the pull
   stops and says which to correct (nothing is converted).
2. **Reads the chart**: every Account, inactive ones too (`Active IN (true,
   false)`), paged, saved with `ledger_accounts_save` by QuickBooks Id
   (`external_id`), never by name: a renamed account keeps its link and its
   lines. An account of a type the ledger does not know is left out and
   counted; a month whose report gives it an amount is refused (below).
3. **Works out the months**: a first pull (or a whole re-read, see
   settings.QUICKBOOKS_LEDGER_REFRESH_DAYS, or a cursor older than CDC's 30
   days) takes the window: the last QUICKBOOKS_LEDGER_MONTHS full months and
   the current month to date. A later pull asks CDC which transactions changed
   since the cursor's moment: a change dated in month M changes every
   month-end from M on (balance-sheet accounts carry forward, and income and
   expenses are year to date), so the months from the earliest touched one to
   the current one are read again, with the month of the previous pull (it was
   read only up to that day), a month a stopped run had not reached and the
   months refused last time. A transaction moved to another month touches
   both: CDC gives only its new date, so the month each transaction was last
   seen in is kept (LedgerTransaction) and the earlier of the two counts. A
   deletion (CDC gives no date) counts its month last seen; one never seen,
   or an answer of 1,000 changes (Intuit's most: some may be missing), reads
   the whole window. Whole reads ask CDC too (one request) when the cursor
   is within its reach, so the months kept stay true; otherwise they are
   forgotten. A transaction first seen after it moved is placed by its new
   date only: the weekly whole read is still what corrects that case.
4. **Reads each month's TrialBalance report** (accrual, from the first day of
   its fiscal year to its last day, or today for the current month) and
   records it with `trial_balance_record` (source "qbo", the report's JSON
   kept as `raw`), replacing that date's snapshot; the cursor is stored after
   every month, so a run stopped by a 5xx resumes at the month it stopped at.

QuickBooks' TrialBalance is what the ledger's snapshot means already
(reports/models.py, docs/reports.md): balance-sheet accounts as they stand,
income and expenses for the fiscal year to date, earlier years in retained
earnings. The rows are taken as given, netted to one side and rounded to the
cent by `trial_balance_record`; nothing else is converted.

A report that does not balance, names an account the chart does not list (or
of an unknown type), or whose rows do not add up to its own total records
nothing for its month: the month is an error of the run (shown on the pages)
and is read again by the next pull. A month with no balances (before the
books began) records nothing, and removes a snapshot QuickBooks gave before.

Intuit is called outside our write transactions (docs/decisions.md, 182):
each month is read, then recorded in its own transaction.
"""

from __future__ import annotations

import calendar
import json
import logging
import time
import zoneinfo
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from advisoros.tenancy.clock import firm_today
from advisoros.tenancy.tasks import enqueue_for_organization
from integrations.quickbooks.client import (
    CDC_MAX_DAYS,
    PAGE_SIZE,
    QuickBooksClient,
    QuickBooksError,
    report_rows,
)
from integrations.quickbooks.models import (
    ConnectionKind,
    LedgerTransaction,
    QuickBooksConnection,
    SyncRun,
    WebhookEvent,
)
from integrations.quickbooks.sync import STOPS_A_RUN, _run_lock
from reports.csv_import import account_type_parse
from reports.models import ZERO, LedgerSource, TrialBalance, month_end
from reports.services import (
    AccountData,
    BalanceRow,
    balance_rows_check,
    ledger_accounts_save,
    trial_balance_delete,
    trial_balance_record,
)
from reports.statements import add_months, client_fiscal_start_month, fiscal_year_start

logger = logging.getLogger(__name__)

# The transactions that post to the ledger: CDC is asked about these.
POSTING_ENTITIES = (
    "Invoice",
    "SalesReceipt",
    "CreditMemo",
    "RefundReceipt",
    "Payment",
    "Deposit",
    "Transfer",
    "JournalEntry",
    "Bill",
    "BillPayment",
    "VendorCredit",
    "Purchase",
)
MONTH_NAMES = [calendar.month_name[n].lower() for n in range(1, 13)]
# SyncRun.counts / errors keys.
ACCOUNTS = "Account"
MONTHS = "TrialBalance"
CHANGES = "Change"


class LedgerRefused(Exception):
    """The connection cannot be pulled (not a client's books, not connected),
    or the pull cannot go on until a person changes something."""


# The cursor ------------------------------------------------------------------------


@dataclass
class LedgerCursor:
    """Where a client's ledger stands, kept in `SyncRun.cursor`:
    `ledger:<moment>[;from=<YYYY-MM>][;retry=<YYYY-MM>,...]`.

    `moment`: what changed in QuickBooks since then is not read yet (the start
    of the run that wrote it); `resume`: the first month a stopped run had not
    recorded yet; `retry`: months whose report was refused."""

    moment: datetime
    resume: date | None = None
    retry: tuple[date, ...] = ()

    def __str__(self) -> str:
        text = "ledger:" + self.moment.astimezone(UTC).isoformat(timespec="seconds")
        if self.resume:
            text += f";from={self.resume:%Y-%m}"
        if self.retry:
            text += ";retry=" + ",".join(f"{d:%Y-%m}" for d in self.retry)
        return text

    @classmethod
    def parse(cls, text: str) -> LedgerCursor | None:
        if not text.startswith("ledger:"):
            return None
        moment_text, *parts = text.removeprefix("ledger:").split(";")
        try:
            moment = datetime.fromisoformat(moment_text)
            options = dict(part.split("=", 1) for part in parts)
            resume = _month(options["from"]) if options.get("from") else None
            retry = tuple(_month(m) for m in options.get("retry", "").split(",") if m)
        except ValueError:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return cls(moment, resume, retry)


def _month(text: str) -> date:
    """ "2026-03" -> the month's last day."""
    year, month = text.split("-")
    return month_end(date(int(year), int(month), 1))


def ledger_window(today: date, months: int) -> list[date]:
    """The month-ends a first pull reads: `months` full months and the current."""
    current = month_end(today)
    return [add_months(current, -n) for n in range(months, -1, -1)]


# A pull's state -----------------------------------------------------------------------


@dataclass
class _Pull:
    connection: QuickBooksConnection
    api: QuickBooksClient
    run: SyncRun
    today: date
    start_month: int
    counts: dict = field(default_factory=dict)
    errors: list = field(default_factory=list)
    # QuickBooks Id -> the account as the ledger takes it.
    chart: dict[str, AccountData] = field(default_factory=dict)
    # QuickBooks Id -> (name, type) of accounts of a type the ledger lacks.
    unknown: dict[str, tuple[str, str]] = field(default_factory=dict)
    # What CDC reported: (entity, Id) -> the month-end it is dated in now;
    # the deleted ones; whether the months kept can no longer be trusted.
    seen: dict[tuple[str, str], date] = field(default_factory=dict)
    gone: set[tuple[str, str]] = field(default_factory=set)
    forget: bool = False

    def count(self, what: str, key: str, n: int = 1) -> None:
        per = self.counts.setdefault(what, {})
        per[key] = per.get(key, 0) + n


def _checkpoint(state: _Pull, cursor: LedgerCursor) -> None:
    state.run.cursor = str(cursor)
    SyncRun.objects.filter(pk=state.run.pk).update(
        cursor=state.run.cursor,
        counts=state.counts,
        requests_made=state.api.requests_made,
    )


# Reading ----------------------------------------------------------------------------


def _fiscal_year_check(state: _Pull) -> None:
    info = state.api.company_info()
    name = str(info.get("FiscalYearStartMonth") or "").strip().lower()
    if name not in MONTH_NAMES:
        return  # not given: nothing to compare
    theirs = MONTH_NAMES.index(name) + 1
    if theirs != state.start_month:
        ours = MONTH_NAMES[state.start_month - 1].capitalize()
        raise LedgerRefused(
            f"QuickBooks starts this company's fiscal year in "
            f"{MONTH_NAMES[theirs - 1].capitalize()}, the client's record in "
            f"{ours} (its year ends in the month before): the year-to-date "
            f"figures would not match. Correct the fiscal year end on the "
            f"client's record or in QuickBooks, then pull again."
        )


def account_data(obj: dict) -> AccountData | None:
    """A QuickBooks Account as the ledger takes it; None for a type it lacks."""
    account_type = account_type_parse(str(obj.get("AccountType") or ""))
    if account_type is None:
        return None
    return AccountData(
        name=str(obj.get("FullyQualifiedName") or obj.get("Name") or "").strip(),
        account_type=account_type,
        number=str(obj.get("AcctNum") or "").strip(),
        subtype=str(obj.get("AccountSubType") or ""),
        external_id=str(obj["Id"]),
        is_active=obj.get("Active") is not False,
    )


def _chart_pull(state: _Pull) -> None:
    """Every account, inactive ones too, saved by QuickBooks Id."""
    known: list[AccountData] = []
    for obj in state.api.query("select * from Account where Active IN (true, false)"):
        state.count(ACCOUNTS, "read")
        data = account_data(obj)
        if data is None:
            state.unknown[str(obj["Id"])] = (
                str(obj.get("FullyQualifiedName") or obj.get("Name") or ""),
                str(obj.get("AccountType") or ""),
            )
            state.count(ACCOUNTS, "unknown type")
            continue
        state.chart[data.external_id] = data
        known.append(data)
    try:
        ledger_accounts_save(client=state.connection.client, accounts=known)
    except ValidationError as exc:
        raise LedgerRefused(
            "The chart of accounts could not be saved: " + " ".join(exc.messages)
        ) from exc
    state.count(ACCOUNTS, "saved", len(known))


def _touched(state: _Pull, since: datetime) -> date | None:
    """The first month-end whose balances changed since `since` (None: none),
    by the dates of the transactions CDC reports, old and new: a transaction
    moved to another month changes both, and CDC gives only its new date, so
    the month each was last seen in is kept (LedgerTransaction). The window's
    first (`date.min`) when a change cannot be placed. What CDC reported is
    noted in `state.seen` / `state.gone`, written by `_seen_save`."""
    changed = state.api.cdc(list(POSTING_ENTITIES), since)
    objects = [(entity, obj) for entity, found in changed.items() for obj in found]
    state.count(CHANGES, "read", len(objects))
    whole = date.min
    if len(objects) >= PAGE_SIZE:
        # Intuit's most: more may have changed than it said, and what is
        # kept of those could be out of date.
        state.forget = True
        return whole
    # Query: the months last seen of the transactions CDC reported.
    before = _seen_months(state, [(e, str(o.get("Id"))) for e, o in objects])
    earliest: date | None = None
    placed = True
    for entity, obj in objects:
        key = (entity, str(obj.get("Id")))
        old = before.get(key)
        if old is not None:
            earliest = old if earliest is None else min(earliest, old)
        text = str(obj.get("TxnDate") or "")
        if obj.get("status") == "Deleted":
            # No date: the month it was in, when it was seen before.
            state.gone.add(key)
            placed = placed and old is not None
            continue
        try:
            day = date.fromisoformat(text[:10])
        except ValueError:
            placed = False
            continue
        new = month_end(day)
        state.seen[key] = new
        earliest = new if earliest is None else min(earliest, new)
    if not placed:
        return whole
    return earliest


def _seen_months(state: _Pull, keys: list[tuple[str, str]]) -> dict:
    """(entity, id) -> the month-end each was last seen in, in one query."""
    if not keys:
        return {}
    match = Q()
    for entity in {e for e, _ in keys}:
        match |= Q(entity=entity, qbo_id__in=[i for e, i in keys if e == entity])
    return {
        (entity, qbo_id): period_end
        for entity, qbo_id, period_end in LedgerTransaction.objects.filter(
            match,
            organization_id=state.connection.organization_id,
            connection=state.connection,
        ).values_list("entity", "qbo_id", "period_end")
    }


def _seen_save(state: _Pull) -> None:
    """Keep the months CDC gave (in the caller's transaction, with the
    checkpoint that moves the cursor past them); forget the deleted ones, or
    all of them when some changes could not be read."""
    kept = LedgerTransaction.objects.filter(
        organization_id=state.connection.organization_id,
        connection=state.connection,
    )
    if state.forget:
        kept.delete()
        return
    for entity in {e for e, _ in state.gone}:
        kept.filter(
            entity=entity, qbo_id__in=[i for e, i in state.gone if e == entity]
        ).delete()
    if state.seen:
        LedgerTransaction.objects.bulk_create(
            [
                LedgerTransaction(
                    organization_id=state.connection.organization_id,
                    connection=state.connection,
                    entity=entity,
                    qbo_id=qbo_id,
                    period_end=period_end,
                )
                for (entity, qbo_id), period_end in sorted(state.seen.items())
            ],
            update_conflicts=True,
            unique_fields=["organization", "connection", "entity", "qbo_id"],
            update_fields=["period_end", "updated_at"],
        )


def _plain(raw: dict) -> dict:
    """The report's JSON as JSON again (the client reads numbers as Decimal)."""
    return json.loads(json.dumps(raw, default=str))


def _grand_total(raw: dict) -> tuple[Decimal, Decimal] | None:
    """The report's own TOTAL row (debit, credit), if it has one."""
    for row in (raw.get("Rows") or {}).get("Row") or []:
        summary = (row.get("Summary") or {}).get("ColData") or []
        if row.get("group") == "GrandTotal" and len(summary) >= 3:
            try:
                return (
                    Decimal(str(summary[1].get("value") or "0").replace(",", "")),
                    Decimal(str(summary[2].get("value") or "0").replace(",", "")),
                )
            except ArithmeticError:
                return None
    return None


def _balance_rows(state: _Pull, raw: dict) -> tuple[list[BalanceRow], list[str]]:
    """The report's Data rows as the ledger's rows (each netted to one side),
    and what is wrong with them."""
    rows: list[BalanceRow] = []
    problems: list[str] = []
    debit_total = credit_total = ZERO
    for row in report_rows(raw):
        debit = row.amounts[0] if row.amounts else None
        credit = row.amounts[1] if len(row.amounts) > 1 else None
        debit_total += debit or ZERO
        credit_total += credit or ZERO
        net = (debit or ZERO) - (credit or ZERO)
        if not net:
            continue
        account = state.chart.get(row.account_id)
        if account is None:
            if row.account_id in state.unknown:
                name, kind = state.unknown[row.account_id]
                problems.append(
                    f"The account “{name}” has the type “{kind}”, which the "
                    f"ledger does not know, and a balance of {net:,.2f}."
                )
            else:
                problems.append(
                    f"The report names an account the chart of accounts does "
                    f"not list (“{row.label}”, id {row.account_id or 'none'})."
                )
            continue
        if net > 0:
            rows.append(BalanceRow(account, debit=net))
        else:
            rows.append(BalanceRow(account, credit=-net))
    total = _grand_total(raw)
    if total is not None and total != (debit_total, credit_total):
        problems.append(
            f"The report's rows add up to {debit_total:,.2f} / {credit_total:,.2f}"
            f" but its total says {total[0]:,.2f} / {total[1]:,.2f}."
        )
    if not problems:
        problems = [p.message for p in balance_rows_check(rows)]
    return rows, problems


def _month_error(state: _Pull, period_end: date, message: str) -> None:
    state.count(MONTHS, "errors")
    state.errors.append(
        {
            "entity": MONTHS,
            "id": period_end.isoformat(),
            "message": f"{period_end:%B %Y}: {message}"[:500],
        }
    )


def _month_pull(state: _Pull, period_end: date) -> bool:
    """Read and record one month's trial balance. False: refused (an error of
    the run, read again next time)."""
    end = min(period_end, state.today)
    start = fiscal_year_start(end, state.start_month)
    client = state.connection.client
    try:
        raw = state.api.report(
            "TrialBalance",
            start_date=start.isoformat(),
            end_date=end.isoformat(),
            accounting_method="Accrual",
        )
    except QuickBooksError as exc:
        if exc.status is None or exc.status >= 500 or exc.status in (401, 403, 429):
            raise  # stops the run; resumed at this month
        _month_error(state, period_end, str(exc))
        return False
    raw = _plain(raw)
    rows, problems = _balance_rows(state, raw)
    if problems:
        _month_error(state, period_end, " ".join(problems))
        return False
    if not rows:
        # No balances at that date: the books had not begun. A snapshot
        # QuickBooks gave before (since deleted there) goes; a CSV one stays.
        old = TrialBalance.objects.filter(
            organization_id=client.organization_id,
            client=client,
            period_end=period_end,
            source=LedgerSource.QBO,
        ).first()
        if old is not None:
            trial_balance_delete(trial_balance=old)
        state.count(MONTHS, "empty")
        return True
    try:
        trial_balance_record(
            client=client,
            period_end=period_end,
            rows=rows,
            source=LedgerSource.QBO,
            raw=raw,
        )
    except ValidationError as exc:
        _month_error(state, period_end, " ".join(exc.messages))
        return False
    state.count(MONTHS, "recorded")
    return True


# A pull --------------------------------------------------------------------------------


def _check(connection: QuickBooksConnection) -> None:
    if connection.kind != ConnectionKind.CLIENT or connection.client_id is None:
        raise LedgerRefused("Only a client's books are pulled into its ledger.")
    if not connection.is_connected:
        raise LedgerRefused("This QuickBooks company is not connected.")


def _runs(connection: QuickBooksConnection):
    return SyncRun.objects.filter(
        organization_id=connection.organization_id, connection=connection
    )


def _last_cursor(connection: QuickBooksConnection) -> LedgerCursor | None:
    text = (
        _runs(connection)
        .exclude(cursor="")
        .order_by("-started_at", "-pk")
        .values_list("cursor", flat=True)
        .first()
    )
    return LedgerCursor.parse(text or "")


def _reread_due(connection: QuickBooksConnection, now: datetime) -> bool:
    """The last whole read is older than QUICKBOOKS_LEDGER_REFRESH_DAYS."""
    days = settings.QUICKBOOKS_LEDGER_REFRESH_DAYS
    last = (
        _runs(connection)
        .filter(kind=SyncRun.Kind.FULL)
        .order_by("-started_at")
        .values_list("started_at", flat=True)
        .first()
    )
    return last is None or last < now - timedelta(days=days)


def ledger_events_take(connection: QuickBooksConnection) -> int:
    """The events waiting for this ledger are taken by the pull starting now
    (what they name is read through CDC): marked processed. Under the
    connection's row lock, which `ledger_event_receive` takes too, so an event
    arriving from now on queues a pull of its own."""
    with transaction.atomic():
        QuickBooksConnection.objects.select_for_update().filter(
            organization_id=connection.organization_id, pk=connection.pk
        ).first()
        now = timezone.now()
        return WebhookEvent.objects.filter(
            organization_id=connection.organization_id,
            connection=connection,
            status=WebhookEvent.Status.RECEIVED_FOR_SYNC,
        ).update(status=WebhookEvent.Status.PROCESSED, processed_at=now, updated_at=now)


def ledger_event_receive(*, event: WebhookEvent) -> bool:
    """An event about a client's books: it waits for the ledger's next pull,
    and the first event waiting queues that pull (debounced: however many
    events arrive, one pull is queued until it starts and takes them). Returns
    whether a pull was queued (it runs once the caller's transaction commits)."""
    connection = event.connection
    with transaction.atomic():
        locked = (
            QuickBooksConnection.objects.select_for_update()
            .filter(organization_id=event.organization_id, pk=connection.pk)
            .first()
        )
        waiting = (
            WebhookEvent.objects.filter(
                organization_id=event.organization_id,
                connection=connection,
                status=WebhookEvent.Status.RECEIVED_FOR_SYNC,
            )
            .exclude(pk=event.pk)
            .exists()
        )
        moved = WebhookEvent.objects.filter(
            organization_id=event.organization_id,
            pk=event.pk,
            status=WebhookEvent.Status.QUEUED,
        ).update(
            status=WebhookEvent.Status.RECEIVED_FOR_SYNC,
            updated_at=timezone.now(),
        )
        queue = bool(moved) and not waiting and locked is not None
        queue = queue and locked.is_connected
        if queue:
            client_ledger_pull_queue(locked)
    return queue


def _months_of(
    state: _Pull,
    previous: LedgerCursor | None,
    window: list[date],
    whole: bool,
    in_reach: bool,
) -> list[date]:
    """The month-ends this pull reads. CDC is asked whenever the previous
    pull's moment is within its reach, a whole read too: the months kept of
    the transactions must follow every change, or a later move would be
    re-read from a month it had left already. Out of reach, they are
    forgotten (a change in between went unseen)."""
    if previous is None or not in_reach:
        state.forget = True
        return window
    touched = _touched(state, previous.moment)
    if whole:
        return window
    zone = zoneinfo.ZoneInfo(state.connection.organization.timezone)
    # The previous pull read its month only up to its own day.
    first = month_end(previous.moment.astimezone(zone).date())
    if previous.resume:
        first = min(first, previous.resume)
    if touched is not None:
        first = min(first, touched)
    months = {m for m in window if m >= first}
    months.update(m for m in previous.retry if m >= window[0])
    return sorted(months)


def client_ledger_pull(
    *, connection: QuickBooksConnection, full: bool = False
) -> SyncRun | None:
    """One pull of a client's ledger (see the module's docstring). Returns the
    SyncRun, or None when another pull of this connection is under way. Never
    inside a transaction: Intuit is called between our commits."""
    _check(connection)
    with _run_lock(connection) as got:
        if not got:
            return None
        started = timezone.now()
        ledger_events_take(connection)
        organization = connection.organization
        client = connection.client
        today = firm_today(organization)
        window = ledger_window(today, settings.QUICKBOOKS_LEDGER_MONTHS)
        previous = _last_cursor(connection)
        cdc_reach = started - timedelta(days=CDC_MAX_DAYS) + timedelta(hours=1)
        in_reach = previous is not None and previous.moment >= cdc_reach
        whole = full or not in_reach or _reread_due(connection, started)
        run = SyncRun.objects.create(
            organization_id=connection.organization_id,
            connection=connection,
            kind=SyncRun.Kind.FULL if whole else SyncRun.Kind.INCREMENTAL,
            cursor=str(previous) if previous else "",
        )
        state = _Pull(
            connection=connection,
            api=QuickBooksClient(connection),
            run=run,
            today=today,
            start_month=client_fiscal_start_month(client),
        )
        began = time.monotonic()
        failure = ""
        refused: list[date] = []
        try:
            _fiscal_year_check(state)
            _chart_pull(state)
            months = _months_of(state, previous, window, whole, in_reach)
            with transaction.atomic():
                # The months of the changes are kept as the cursor moves past
                # them: a run stopped from here on resumes at its first month.
                _seen_save(state)
                _checkpoint(state, LedgerCursor(started, resume=months[0]))
            for period_end in months:
                _checkpoint(
                    state,
                    LedgerCursor(started, resume=period_end, retry=tuple(refused)),
                )
                if not _month_pull(state, period_end):
                    refused.append(period_end)
            _checkpoint(state, LedgerCursor(started, retry=tuple(refused)))
        except (*STOPS_A_RUN, LedgerRefused) as exc:
            failure = str(exc)[:1000]
            logger.warning(
                "QuickBooks ledger of client %s (firm %s) stopped at %s: %s",
                client.pk,
                connection.organization_id,
                run.cursor,
                exc,
            )
        run.finished_at = timezone.now()
        run.duration_ms = int((time.monotonic() - began) * 1000)
        run.counts = state.counts
        run.requests_made = state.api.requests_made
        run.errors = state.errors[-100:]
        run.error_count = len(state.errors) + (1 if failure else 0)
        if failure:
            # First: the pages list the first few errors, and what stopped
            # the pull is the one a person must see.
            run.errors.insert(0, {"entity": "", "id": "", "message": failure})
            run.status = SyncRun.Status.FAILED
        elif state.errors:
            run.status = SyncRun.Status.PARTIAL
        else:
            run.status = SyncRun.Status.SUCCEEDED
        run.save()
        return run


def client_ledger_pull_queue(
    connection: QuickBooksConnection, *, full: bool = False
) -> None:
    """Queue a pull of `connection`'s ledger once the caller's transaction commits."""
    enqueue_for_organization(
        "integrations.quickbooks.tasks_ledger.client_ledger_pull_job",
        connection.organization,
        connection_id=connection.pk,
        full=full,
    )


def ledger_events_waiting(connection: QuickBooksConnection) -> bool:
    """Events arrived for this ledger that no pull has taken yet."""
    return WebhookEvent.objects.filter(
        organization_id=connection.organization_id,
        connection=connection,
        status=WebhookEvent.Status.RECEIVED_FOR_SYNC,
    ).exists()
