"""The sync of the firm's own QuickBooks company (a firm-kind connection):
clients <-> customers, issued invoices <-> invoices (voids included), credit
notes <-> credit memos, payments <-> payments, both ways, matched by
QuickBooks id (QuickBooksLink), never by name.

A run (`quickbooks_sync_run`, from the job in tasks.py) goes:

1. **Finish pushes a previous run left half done**: links in state "pushing"
   (written before Intuit was called) are created again with the same
   `requestid`; Intuit answers the object it made the first time, so the link
   gets its id and nothing is made twice.
2. **Pull**: a full sync (the first run, or when the cursor is more than 30
   days old: CDC goes no further back) pages through every Customer, Invoice
   and Payment (`select * ... STARTPOSITION n MAXRESULTS m`), storing its
   position in the run's cursor after every page, so a run that stops (a 5xx
   after every retry) resumes at that page next time. An incremental run asks
   CDC for each entity in turn what changed since the cursor; an answer of
   1,000 objects (Intuit's most) is followed by another from the last
   object's time. Every object is applied in its own transaction.
3. **Push**: what is ours and not yet there (issued invoices and their
   customers, credit notes and payments of linked invoices) is created; a
   linked client renamed here is updated there, and a linked invoice voided
   here voided there, with the SyncToken last read.

Intuit is called outside our write transactions (docs/decisions.md,
item 182): a page or an object is read first, then written here.

The rule for changes (docs/decisions.md, items 213-226): each link keeps the hash of
each side's synced fields as of the last sync. One side changed: it wins and
the other follows. Both changed to different values: a conflict (a SyncIssue),
shown on the issues page and left alone by every run until a person resolves
it. Our issued invoices and recorded payments are never edited by the sync: a
different amount in QuickBooks is always a conflict.

What QuickBooks made is brought here through the billing services
(docs/decisions.md 227-237): an invoice for a linked customer is imported as
issued (`invoice_import`, our number, never emailed); a void there voids ours
when nothing was paid or credited on it, else a conflict; a credit memo there
becomes a credit note when a payment applies it to one of our invoices.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db import connection as db_connection
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from advisoros.accounts.models import User
from advisoros.tenancy.clock import firm_today
from billing.models import (
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
)
from billing.services.invoices import (
    ImportedLine,
    credit_note_create,
    invoice_import,
    invoice_void,
)
from billing.services.payments import payment_record
from clients.models import Client
from clients.services.clients import client_create, client_update
from integrations.quickbooks.client import (
    CDC_MAX_DAYS,
    PAGE_SIZE,
    QuickBooksClient,
    QuickBooksError,
    StaleObject,
    request_id,
)
from integrations.quickbooks.limits import LimitWaitExceeded
from integrations.quickbooks.models import (
    ConnectionKind,
    CreditApplication,
    QuickBooksConnection,
    QuickBooksLink,
    SyncEntity,
    SyncIssue,
    SyncRun,
)
from integrations.quickbooks.tokens import NeedsReconnect, TokenRefreshFailed

logger = logging.getLogger(__name__)

# Pulled in this order: an invoice names its customer, a credit memo its
# customer, a payment the invoices (and credit memos) it settles.
ENTITIES = (
    SyncEntity.CUSTOMER,
    SyncEntity.INVOICE,
    SyncEntity.CREDIT_MEMO,
    SyncEntity.PAYMENT,
)
# Our invoices and credit notes (both billing Invoices) are linked as these.
INVOICE_ENTITIES = (SyncEntity.INVOICE, SyncEntity.CREDIT_MEMO)
# The item our invoices' one line is booked to ("Services" in a new company).
SERVICES_ITEM = "1"
# What stops a run (it resumes from its cursor next time); a 4xx on one
# object only puts that object in the error queue.
STOPS_A_RUN = (QuickBooksError, NeedsReconnect, TokenRefreshFailed, LimitWaitExceeded)
CENT = Decimal("0.01")


class SyncRefused(Exception):
    """The connection cannot be synced (not the firm's books, not connected)."""


# The synced fields, one shape per entity for both sides -----------------------


def _money(value) -> str:
    return str(Decimal(str(value or 0)).quantize(CENT))


def client_fields(client: Client) -> dict:
    return {"name": client.display_name.strip(), "email": client.email.strip().lower()}


def customer_fields(obj: dict) -> dict:
    email = (obj.get("PrimaryEmailAddr") or {}).get("Address") or ""
    return {
        "name": str(obj.get("DisplayName") or "").strip(),
        "email": email.strip().lower(),
    }


# A void invoice's synced fields on both sides: QuickBooks zeroes a voided
# invoice's amounts, we keep ours, so the total is left out. A live invoice's
# shape is unchanged by this, so links made before voids synced keep their hash.
VOID = {"void": True}


def invoice_fields(invoice: Invoice) -> dict:
    if invoice.status == InvoiceStatus.VOID:
        return dict(VOID)
    return {"total": _money(invoice.total)}


def voided(obj: dict) -> bool:
    """QuickBooks keeps a voided invoice with its amounts zeroed and "Voided"
    in its private note (the API has no status for it)."""
    return Decimal(str(obj.get("TotalAmt") or 0)) == 0 and "voided" in (
        str(obj.get("PrivateNote") or "").lower()
    )


def qbo_invoice_fields(obj: dict) -> dict:
    if voided(obj):
        return dict(VOID)
    return {"total": _money(obj.get("TotalAmt"))}


def payment_fields(payment: Payment) -> dict:
    return {"amount": _money(payment.amount)}


def qbo_payment_fields(obj: dict) -> dict:
    return {"amount": _money(obj.get("TotalAmt"))}


THEIR_FIELDS = {
    SyncEntity.CUSTOMER: customer_fields,
    SyncEntity.INVOICE: qbo_invoice_fields,
    SyncEntity.CREDIT_MEMO: qbo_invoice_fields,
    SyncEntity.PAYMENT: qbo_payment_fields,
}
VOID_HASH = hashlib.sha256(json.dumps(VOID, sort_keys=True).encode()).hexdigest()


def digest(fields: dict) -> str:
    """The hash a link keeps of one side's synced fields."""
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


def _ours(link: QuickBooksLink) -> dict:
    if link.entity == SyncEntity.CUSTOMER:
        return client_fields(link.client)
    if link.entity in INVOICE_ENTITIES:
        return invoice_fields(link.invoice)
    return payment_fields(link.payment)


def _our_object(link: QuickBooksLink):
    return link.client or link.invoice or link.payment


# A run's state -------------------------------------------------------------------


@dataclass
class _Run:
    connection: QuickBooksConnection
    api: QuickBooksClient
    run: SyncRun | None = None
    counts: dict = field(default_factory=dict)
    errors: list = field(default_factory=list)
    # Keys of the open error items, read once: an object that now goes
    # through closes its item without a query per object.
    open_errors: set = field(default_factory=set)

    @property
    def organization_id(self) -> int:
        return self.connection.organization_id

    def count(self, entity: str, what: str, n: int = 1) -> None:
        per = self.counts.setdefault(str(entity), {})
        per[what] = per.get(what, 0) + n


def _links(state: _Run):
    return QuickBooksLink.objects.filter(
        organization_id=state.organization_id, connection=state.connection
    )


def _issue_error(
    state: _Run, *, direction: str, entity: str, key: str, label: str, message: str
) -> None:
    """Put one object in the error queue (or count it again there)."""
    state.count(entity, "errors")
    state.errors.append({"entity": str(entity), "id": key, "message": message[:500]})
    with transaction.atomic():
        issue = (
            SyncIssue.objects.select_for_update()
            .filter(
                organization_id=state.organization_id,
                connection=state.connection,
                direction=direction,
                entity=entity,
                key=key,
                status=SyncIssue.Status.OPEN,
            )
            .first()
        )
        if issue is None:
            SyncIssue.objects.create(
                organization_id=state.organization_id,
                connection=state.connection,
                run=state.run,
                kind=SyncIssue.Kind.ERROR,
                direction=direction,
                entity=entity,
                key=key,
                label=label[:255],
                message=message[:2000],
            )
        else:
            issue.attempts += 1
            issue.message = message[:2000]
            issue.run = state.run
            issue.save(update_fields=["attempts", "message", "run", "updated_at"])


def _issue_close(state: _Run, *, direction: str, entity: str, key: str) -> None:
    if (direction, str(entity), key) not in state.open_errors:
        return
    SyncIssue.objects.filter(
        organization_id=state.organization_id,
        connection=state.connection,
        kind=SyncIssue.Kind.ERROR,
        direction=direction,
        entity=entity,
        key=key,
        status=SyncIssue.Status.OPEN,
    ).update(
        status=SyncIssue.Status.RESOLVED,
        resolution="succeeded",
        resolved_at=timezone.now(),
        updated_at=timezone.now(),
    )


def _conflict(
    state: _Run,
    link: QuickBooksLink,
    *,
    ours: dict,
    obj: dict,
    label: str,
    message: str = "",
) -> str:
    """Both sides changed since the last sync: shown, never overwritten. The
    link is held (state conflict) until a person resolves it."""
    theirs = THEIR_FIELDS[link.entity](obj)
    link.state = QuickBooksLink.State.CONFLICT
    link.save(update_fields=["state", "updated_at"])
    SyncIssue.objects.update_or_create(
        organization_id=state.organization_id,
        connection=state.connection,
        direction=SyncIssue.Direction.PULL,
        entity=link.entity,
        key=link.qbo_id,
        status=SyncIssue.Status.OPEN,
        defaults={
            "kind": SyncIssue.Kind.CONFLICT,
            "link": link,
            "run": state.run,
            "label": label[:255],
            "message": message or _conflict_message(link.entity),
            "ours": ours,
            "theirs": {**theirs, "sync_token": str(obj.get("SyncToken", ""))},
        },
    )
    return "conflicts"


def _conflict_message(entity: str) -> str:
    if entity == SyncEntity.CUSTOMER:
        return "Changed here and in QuickBooks since the last sync."
    if entity == SyncEntity.INVOICE:
        return (
            "The invoice's amount was changed in QuickBooks. An issued invoice "
            "is never edited here: keep ours (QuickBooks is set back) or leave "
            "both as they are."
        )
    if entity == SyncEntity.CREDIT_MEMO:
        return (
            "The credit memo's amount was changed in QuickBooks. An issued credit "
            "note is never edited here: keep ours (QuickBooks is set back) or "
            "leave both as they are."
        )
    return (
        "The payment's amount was changed in QuickBooks. A recorded payment is "
        "never edited here: keep ours (QuickBooks is set back) or leave both "
        "as they are."
    )


# Pull: QuickBooks -> here -------------------------------------------------------


MARKER = re.compile(r"AdvisorOS (client|invoice|credit|payment) ([0-9a-f-]{36})")
# Per entity: the word in the marker, the QuickBooks field that carries it,
# the link's field naming our object.
MARKED = {
    SyncEntity.CUSTOMER: ("client", "Notes", "client"),
    SyncEntity.INVOICE: ("invoice", "PrivateNote", "invoice"),
    SyncEntity.CREDIT_MEMO: ("credit", "PrivateNote", "invoice"),
    SyncEntity.PAYMENT: ("payment", "PrivateNote", "payment"),
}


def _marker(link: QuickBooksLink) -> str:
    """Written with what we push: our object's uuid, so an object of ours
    read back before its push stored the QuickBooks id (a webhook racing
    the run, an answer lost) is known as ours by that id, never taken for
    a new one."""
    kind = MARKED[link.entity][0]
    return f"AdvisorOS {kind} {_our_object(link).uuid}"


def _marked_link(state: _Run, entity: str, obj: dict) -> QuickBooksLink | None:
    """The link still waiting for its QuickBooks id that `obj` names."""
    kind, note_field, ours = MARKED[entity]
    match = MARKER.search(str(obj.get(note_field) or ""))
    if match is None or match[1] != kind:
        return None
    return (
        _links(state)
        .select_for_update(of=("self",))
        .select_related(*RELATED[entity])
        .filter(entity=entity, qbo_id="", **{f"{ours}__uuid": match[2]})
        .first()
    )


def _link_complete(link: QuickBooksLink, obj: dict) -> str:
    link.qbo_id = str(obj["Id"])
    link.sync_token = str(obj.get("SyncToken", ""))
    link.our_hash = digest(_ours(link))
    link.their_hash = digest(THEIR_FIELDS[link.entity](obj))
    link.state = QuickBooksLink.State.SYNCED
    link.synced_at = timezone.now()
    link.save()
    return "linked"


def _pull_customer(state: _Run, obj: dict, link: QuickBooksLink | None) -> str:
    theirs = customer_fields(obj)
    their_hash = digest(theirs)
    token = str(obj.get("SyncToken", ""))
    now = timezone.now()
    if link is None and (found := _marked_link(state, SyncEntity.CUSTOMER, obj)):
        return _link_complete(found, obj)
    if link is None:
        if obj.get("Active") is False:
            return "skipped"
        client = client_create(
            organization=state.connection.organization,
            data={
                "display_name": theirs["name"] or f"QuickBooks customer {obj['Id']}",
                "email": theirs["email"],
            },
        )
        QuickBooksLink.objects.create(
            organization_id=state.organization_id,
            connection=state.connection,
            entity=SyncEntity.CUSTOMER,
            client=client,
            qbo_id=str(obj["Id"]),
            sync_token=token,
            our_hash=digest(client_fields(client)),
            their_hash=their_hash,
            state=QuickBooksLink.State.SYNCED,
            synced_at=now,
        )
        return "created"
    if link.state == QuickBooksLink.State.CONFLICT:
        return "skipped"
    if their_hash == link.their_hash:
        if token != link.sync_token:
            # Changed in a field we do not sync (its balance moves with every
            # invoice): only the token is kept, for our next update.
            link.sync_token = token
            link.save(update_fields=["sync_token", "updated_at"])
        return "unchanged"
    ours = client_fields(link.client)
    if digest(ours) != link.our_hash and digest(ours) != their_hash:
        return _conflict(
            state, link, ours=ours, obj=obj, label=link.client.display_name
        )
    if digest(ours) != their_hash:
        client_update(
            client=link.client,
            data={
                "display_name": theirs["name"] or link.client.display_name,
                "email": theirs["email"],
            },
        )
    link.our_hash = digest(client_fields(link.client))
    link.their_hash = their_hash
    link.sync_token = token
    link.synced_at = timezone.now()
    link.save(
        update_fields=[
            "our_hash",
            "their_hash",
            "sync_token",
            "synced_at",
            "updated_at",
        ]
    )
    return "updated"


def _pull_linked_money(state: _Run, link: QuickBooksLink, obj: dict) -> str:
    """An invoice or payment of ours, seen in QuickBooks again."""
    theirs = THEIR_FIELDS[link.entity](obj)
    their_hash = digest(theirs)
    token = str(obj.get("SyncToken", ""))
    if link.state == QuickBooksLink.State.CONFLICT:
        return "skipped"
    if their_hash == link.their_hash:
        if token != link.sync_token:
            link.sync_token = token
            link.save(update_fields=["sync_token", "updated_at"])
        return "unchanged"
    ours = _ours(link)
    if digest(ours) != their_hash:
        return _conflict(state, link, ours=ours, obj=obj, label=_push_label(link))
    # Set back to what we have (a conflict kept ours), or both sides made the
    # same change (both voided): in step again.
    link.our_hash = their_hash
    link.their_hash = their_hash
    link.sync_token = token
    link.synced_at = timezone.now()
    link.save(
        update_fields=[
            "our_hash",
            "their_hash",
            "sync_token",
            "synced_at",
            "updated_at",
        ]
    )
    return "updated"


VOID_CONFLICT = (
    "Voided in QuickBooks, but it has payments or credit notes here, so it is "
    "not voided here: refund or leave them, then void it here (QuickBooks is "
    "voided already), keep ours (QuickBooks is set back) or leave both as they are."
)


def _pull_invoice(state: _Run, obj: dict, link: QuickBooksLink | None) -> str:
    if link is None and (found := _marked_link(state, SyncEntity.INVOICE, obj)):
        return _link_complete(found, obj)
    if link is None:
        return _invoice_import(state, obj)
    if (
        link.state == QuickBooksLink.State.SYNCED
        and voided(obj)
        and link.their_hash != VOID_HASH
        and link.invoice.status != InvoiceStatus.VOID
    ):
        return _pull_void(state, link, obj)
    return _pull_linked_money(state, link, obj)


def _pull_void(state: _Run, link: QuickBooksLink, obj: dict) -> str:
    """Voided in QuickBooks: ours is voided too when nothing was paid or
    credited on it; otherwise a conflict (money here is never undone by the
    sync)."""
    invoice = link.invoice
    if invoice.amount_paid > 0 or invoice.amount_credited > 0:
        return _conflict(
            state,
            link,
            ours=invoice_fields(invoice),
            obj=obj,
            label=invoice.display_number,
            message=VOID_CONFLICT,
        )
    link.invoice = invoice_void(
        invoice=invoice, by=None, reason="Voided in QuickBooks."
    )
    link.our_hash = link.their_hash = VOID_HASH
    link.sync_token = str(obj.get("SyncToken", ""))
    link.synced_at = timezone.now()
    link.save()
    return "voided"


def _customer_client(state: _Run, obj: dict) -> Client:
    """The client linked to the QuickBooks customer `obj` is for."""
    customer_id = str((obj.get("CustomerRef") or {}).get("value") or "")
    link = (
        _links(state)
        .select_related("client")
        .filter(entity=SyncEntity.CUSTOMER, qbo_id=customer_id)
        .exclude(qbo_id="")
        .first()
    )
    if link is None:
        raise ValidationError(
            f"Its QuickBooks customer {customer_id or '(none)'} is not linked to a "
            "client here yet (an inactive customer is not imported): Retry once it "
            "is."
        )
    return link.client


def _decimal(value, default: str = "0") -> Decimal:
    return Decimal(str(value if value not in (None, "") else default))


def _imported_lines(obj: dict) -> tuple[list[ImportedLine], Decimal]:
    """The lines of a QuickBooks invoice (sales and other amount lines) and
    its discount; subtotal lines repeat the others and are left out."""
    lines: list[ImportedLine] = []
    discount = Decimal("0")
    for line in obj.get("Line") or []:
        kind = line.get("DetailType") or ""
        amount = _decimal(line.get("Amount"))
        if kind == "SubTotalLineDetail" or (kind == "DescriptionOnly" and not amount):
            continue
        if kind == "DiscountLineDetail":
            discount += amount
            continue
        detail = line.get(kind) or {}
        quantity = _decimal(detail.get("Qty"), "1")
        unit_price = _decimal(detail.get("UnitPrice"), str(amount))
        # Kept only when the price in cents, as stored, makes the amount.
        in_cents = quantity * unit_price.quantize(CENT) == amount.quantize(CENT)
        if quantity.as_tuple().exponent < -2 or not in_cents:
            # Not representable in cents here: one of its amount.
            quantity, unit_price = Decimal("1"), amount
        item = (detail.get("ItemRef") or {}).get("name") or ""
        lines.append(
            ImportedLine(
                description=str(line.get("Description") or item or "Services"),
                quantity=quantity,
                unit_price=unit_price,
                amount=amount,
            )
        )
    return lines, discount


def _invoice_import(state: _Run, obj: dict) -> str:
    """An invoice made in QuickBooks for one of our clients' customers: issued
    here with our next number (QuickBooks' number in its memo), its lines,
    discount, tax and dates, never emailed (docs/decisions.md 227-237)."""
    if voided(obj):
        return "skipped"  # voided before we ever saw it: nothing to record
    client = _customer_client(state, obj)
    lines, discount = _imported_lines(obj)
    issued = str(obj.get("TxnDate") or "")[:10]
    due = str(obj.get("DueDate") or "")[:10]
    number = str(obj.get("DocNumber") or obj["Id"])
    memo = "\n".join(
        part
        for part in (
            f"QuickBooks invoice {number}",
            str((obj.get("CustomerMemo") or {}).get("value") or "").strip(),
        )
        if part
    )
    invoice = invoice_import(
        organization=state.connection.organization,
        client=client,
        lines=lines,
        total=_decimal(obj.get("TotalAmt")),
        discount_amount=discount,
        tax_amount=_decimal((obj.get("TxnTaxDetail") or {}).get("TotalTax")),
        issue_date=(
            date.fromisoformat(issued)
            if issued
            else firm_today(state.connection.organization)
        ),
        due_date=date.fromisoformat(due) if due else None,
        currency=str((obj.get("CurrencyRef") or {}).get("value") or ""),
        memo=memo,
    )
    QuickBooksLink.objects.create(
        organization_id=state.organization_id,
        connection=state.connection,
        entity=SyncEntity.INVOICE,
        invoice=invoice,
        qbo_id=str(obj["Id"]),
        sync_token=str(obj.get("SyncToken", "")),
        our_hash=digest(invoice_fields(invoice)),
        their_hash=digest(qbo_invoice_fields(obj)),
        state=QuickBooksLink.State.SYNCED,
        synced_at=timezone.now(),
    )
    return "created"


def _pull_credit_memo(state: _Run, obj: dict, link: QuickBooksLink | None) -> str:
    if link is None and (found := _marked_link(state, SyncEntity.CREDIT_MEMO, obj)):
        return _link_complete(found, obj)
    if link is None:
        # Made in QuickBooks: a credit note here reduces one invoice, and a
        # credit memo there names none until a payment applies it (QuickBooks
        # does so at once by default): imported then (_credits_apply).
        return "skipped"
    return _pull_linked_money(state, link, obj)


def _invoice_shares(obj: dict) -> list[tuple[str, Decimal]]:
    """What a QuickBooks payment applies to each invoice it names (the sum of
    the lines linking it: cash and credits together), in the payment's order."""
    shares: dict[str, Decimal] = {}
    for line in obj.get("Line") or []:
        linked = [
            str(txn.get("TxnId"))
            for txn in line.get("LinkedTxn") or []
            if txn.get("TxnType") == "Invoice"
        ]
        if len(linked) > 1:
            raise ValidationError(
                "A line of this QuickBooks payment settles several invoices at "
                "once: record it here by hand."
            )
        for invoice_id in linked:
            amount = _decimal(line.get("Amount")).quantize(CENT)
            shares[invoice_id] = shares.get(invoice_id, Decimal("0")) + amount
    return list(shares.items())


def _applied_credits(obj: dict) -> list[tuple[str, Decimal]]:
    """The credit memos a QuickBooks payment applies, with the amount of each:
    a line linking a credit memo (the payment's total is the cash alone)."""
    return [
        (str(txn.get("TxnId")), _decimal(line.get("Amount")).quantize(CENT))
        for line in obj.get("Line") or []
        for txn in line.get("LinkedTxn") or []
        if txn.get("TxnType") == "CreditMemo"
    ]


def _credit_plan(
    shares: list[tuple[str, Decimal]], credits: list[tuple[str, Decimal]]
) -> list[tuple[str, str, Decimal]]:
    """(credit memo, invoice, amount) for each credit the payment applies.

    One invoice: every credit is on it (the rest of its share is the cash).
    Several (only with no cash: QuickBooks does not say which invoice the
    cash went to): the credits cover the invoices' shares exactly, taken in
    the payment's order; a memo larger than one invoice's share goes on to
    the next. Which memo covers which invoice is then the order's, but each
    invoice's credit and each memo's total are QuickBooks' own."""
    if len(shares) == 1:
        (invoice_id, _share) = shares[0]
        return [(memo_id, invoice_id, amount) for memo_id, amount in credits]
    credit_total = sum((amount for _, amount in credits), Decimal("0"))
    share_total = sum((share for _, share in shares), Decimal("0"))
    if credit_total != share_total:
        raise ValidationError(
            f"This QuickBooks payment applies {credit_total} of credit to invoices "
            f"that it settles for {share_total}: record it here by hand."
        )
    plan: list[tuple[str, str, Decimal]] = []
    left = [[invoice_id, share] for invoice_id, share in shares]
    position = 0
    for memo_id, amount in credits:
        while amount > 0:
            while left[position][1] <= 0:
                position += 1
            take = min(amount, left[position][1])
            plan.append((memo_id, left[position][0], take))
            left[position][1] -= take
            amount -= take
    return plan


def _credits_apply(state: _Run, obj: dict, invoices: dict[str, Invoice]) -> int:
    """Credit memos made in QuickBooks that this payment applies to our
    invoices become a credit note on each invoice, of the amount applied to
    it (`_credit_plan`), each recorded once as a CreditApplication: read
    again, the payment makes none twice. Ours (and ones linked before credit
    memos were applied per invoice) are linked already and left alone. In the
    caller's savepoint: one refused, none is made. Returns how many were made."""
    credits = [(m, a) for m, a in _applied_credits(obj) if a > 0]
    if not credits:
        return 0
    plan = _credit_plan(_invoice_shares(obj), credits)
    payment_id = str(obj["Id"])
    # Query: the memos linked (ours, or linked when first applied).
    linked = set(
        _links(state)
        .filter(entity=SyncEntity.CREDIT_MEMO, qbo_id__in=[c for c, _ in credits])
        .values_list("qbo_id", flat=True)
    )
    # Query: what this payment applied before, per (memo, invoice).
    done = {
        (memo_id, invoice_pk): amount
        for memo_id, invoice_pk, amount in CreditApplication.objects.filter(
            organization_id=state.organization_id,
            connection=state.connection,
            payment_qbo_id=payment_id,
        ).values_list("memo_qbo_id", "invoice_id", "amount")
    }
    made = 0
    for memo_id, invoice_id, amount in plan:
        if memo_id in linked:
            continue
        invoice = invoices[invoice_id]
        before = done.get((memo_id, invoice.pk))
        if before is not None:
            if before != amount:
                raise ValidationError(
                    f"This QuickBooks payment now applies {amount} of credit memo "
                    f"{memo_id} to {invoice.display_number}, {before} when it was "
                    "recorded here: correct the credit notes by hand."
                )
            continue
        note = credit_note_create(
            invoice=invoice,
            by=None,
            amount=amount,
            reason=f"QuickBooks credit memo {memo_id}",
        )
        CreditApplication.objects.create(
            organization_id=state.organization_id,
            connection=state.connection,
            memo_qbo_id=memo_id,
            payment_qbo_id=payment_id,
            invoice=invoice,
            credit_note=note,
            amount=amount,
        )
        made += 1
    for invoice in invoices.values():
        invoice.refresh_from_db()
    return made


def _pull_payment(state: _Run, obj: dict, link: QuickBooksLink | None) -> str:
    if link is not None:
        # Ours (pushed by us, or recorded from QuickBooks before): never twice.
        return _pull_linked_money(state, link, obj)
    if found := _marked_link(state, SyncEntity.PAYMENT, obj):
        # Ours, back before the push that made it stored its id.
        return _link_complete(found, obj)
    shares = _invoice_shares(obj)
    invoices = {
        link.qbo_id: link.invoice
        for link in _links(state)
        .select_related("invoice")
        .filter(entity=SyncEntity.INVOICE, qbo_id__in=[i for i, _ in shares])
    }
    if not invoices:
        return "skipped"  # pays invoices that are not linked here
    missing = [i for i, _ in shares if i not in invoices]
    if missing:
        raise ValidationError(
            f"It also settles QuickBooks invoice {', '.join(missing)}, not linked "
            "to an invoice here yet: Retry once it is."
        )
    cash = _decimal(obj.get("TotalAmt")).quantize(CENT)
    if len(shares) > 1 and cash:
        raise ValidationError(
            "This QuickBooks payment pays several invoices: record it here by hand."
        )
    credited = _credits_apply(state, obj, invoices)
    if cash == 0 and _applied_credits(obj):
        # Only credits applied, no money: nothing to record as a payment.
        return "credited" if credited else "unchanged"
    (invoice,) = invoices.values()
    received = str(obj.get("TxnDate") or "")[:10]
    payment = payment_record(
        invoice=invoice,
        by=None,
        amount=cash,
        method=PaymentMethod.OTHER,
        received_on=datetime.fromisoformat(received).date() if received else None,
        reference=f"QuickBooks payment {obj['Id']}",
    )
    QuickBooksLink.objects.create(
        organization_id=state.organization_id,
        connection=state.connection,
        entity=SyncEntity.PAYMENT,
        payment=payment,
        qbo_id=str(obj["Id"]),
        sync_token=str(obj.get("SyncToken", "")),
        our_hash=digest(payment_fields(payment)),
        their_hash=digest(qbo_payment_fields(obj)),
        state=QuickBooksLink.State.SYNCED,
        synced_at=timezone.now(),
    )
    return "created"


PULL = {
    SyncEntity.CUSTOMER: _pull_customer,
    SyncEntity.INVOICE: _pull_invoice,
    SyncEntity.CREDIT_MEMO: _pull_credit_memo,
    SyncEntity.PAYMENT: _pull_payment,
}


def _label(entity: str, obj: dict) -> str:
    if entity == SyncEntity.CUSTOMER:
        return str(obj.get("DisplayName") or f"Customer {obj.get('Id')}")
    return f"{entity} {obj.get('DocNumber') or obj.get('Id')}"


# What a pulled link needs loaded with it.
RELATED = {
    SyncEntity.CUSTOMER: ("client",),
    SyncEntity.INVOICE: ("invoice",),
    SyncEntity.CREDIT_MEMO: ("invoice",),
    SyncEntity.PAYMENT: ("payment__invoice",),
}


def _locked_links(state: _Run, entity: str, ids: list[str]) -> dict:
    """The links of `ids`, locked for the caller's transaction, in one query."""
    return {
        link.qbo_id: link
        for link in _links(state)
        .select_for_update(of=("self",))
        .select_related(*RELATED[entity])
        .filter(entity=entity, qbo_id__in=ids)
    }


def _pull_page(state: _Run, entity: str, objects: list[dict]) -> None:
    """Apply a page read from QuickBooks (Intuit is not called here): one
    transaction, the page's links locked in one query, each object in a
    savepoint of its own, so a refused object rolls back alone."""
    if not objects:
        return
    with transaction.atomic():
        links = _locked_links(state, entity, [str(o.get("Id")) for o in objects])
        for obj in objects:
            _pull_one(state, entity, obj, links.get(str(obj.get("Id"))))


def _pull_one(state: _Run, entity: str, obj: dict, link: QuickBooksLink | None) -> str:
    """Apply one object read from QuickBooks; a refusal (a rule here, a
    constraint) puts it in the error queue."""
    key = str(obj.get("Id", ""))
    token = str(obj.get("SyncToken", ""))
    if (
        link is not None
        and link.state == QuickBooksLink.State.SYNCED
        and link.sync_token == token
        and digest(THEIR_FIELDS[entity](obj)) == link.their_hash
    ):
        # The common case of a full sync: seen before, nothing moved.
        state.count(entity, "unchanged")
        _issue_close(state, direction=SyncIssue.Direction.PULL, entity=entity, key=key)
        return "unchanged"
    try:
        with transaction.atomic():
            outcome = PULL[entity](state, obj, link)
    except (ValidationError, IntegrityError) as exc:
        message = "; ".join(getattr(exc, "messages", None) or [str(exc)])
        _issue_error(
            state,
            direction=SyncIssue.Direction.PULL,
            entity=entity,
            key=key,
            label=_label(entity, obj),
            message=message,
        )
        return "errors"
    state.count(entity, outcome)
    _issue_close(state, direction=SyncIssue.Direction.PULL, entity=entity, key=key)
    return outcome


# Cursors ----------------------------------------------------------------------
#
# "full:<start>:<entity>:<position>"  a full sync under way (started at <start>)
# "cdc:<moment>"                      in step up to <moment>: CDC continues there


def _cursor_full(started: str, entity: str, position: int) -> str:
    return f"full:{started}:{entity}:{position}"


def _parse_moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def _now_text() -> str:
    return timezone.now().astimezone(UTC).isoformat(timespec="seconds")


def _checkpoint(state: _Run, cursor: str) -> None:
    assert state.run is not None
    state.run.cursor = cursor
    SyncRun.objects.filter(pk=state.run.pk).update(
        cursor=cursor, counts=state.counts, requests_made=state.api.requests_made
    )


def _pull_full(state: _Run, cursor: str, page_size: int) -> str:
    """Every object of every entity, a page at a time, the position stored
    after each page. Returns the cursor CDC continues from: the moment the
    full sync began (what changed during it is read again, harmlessly)."""
    if cursor.startswith("full:"):
        _, rest = cursor.split(":", 1)
        started, entity_from, position = rest.rsplit(":", 2)
        first = int(position)
    else:
        started, entity_from, first = _now_text(), ENTITIES[0], 1
    names = [str(e) for e in ENTITIES]
    for entity in names[names.index(entity_from) :]:
        start = first if entity == entity_from else 1
        _checkpoint(state, _cursor_full(started, entity, start))
        while True:
            answer = state.api.request(
                "GET",
                "query",
                params={
                    # Our own entity names and numbers, no input.
                    "query": f"select * from {entity} "  # noqa: S608
                    f"STARTPOSITION {start} MAXRESULTS {page_size}"
                },
            )
            page = (answer.get("QueryResponse") or {}).get(entity) or []
            _pull_page(state, entity, page)
            start += len(page)
            _checkpoint(state, _cursor_full(started, entity, start))
            if len(page) < page_size:
                break
    return f"cdc:{started}"


def _pull_changes(state: _Run, since: datetime) -> str:
    """What changed since `since`, an entity at a time (a shared answer of
    1,000 objects would leave the later entities unread with no way to tell
    where to go on), each continued from its last object's time while an
    answer comes back full."""
    started = _now_text()
    for entity in ENTITIES:
        window = since
        while True:
            changed = state.api.cdc([str(entity)], window)[str(entity)]
            _pull_page(state, entity, changed)
            if len(changed) < PAGE_SIZE:
                break
            last = _parse_moment(changed[-1]["MetaData"]["LastUpdatedTime"])
            if last <= window:
                # A thousand changes in one second: read that second by query.
                _pull_second(state, entity, window)
                last = window + timedelta(seconds=1)
            window = last
    return f"cdc:{started}"


def _pull_second(state: _Run, entity: str, moment: datetime) -> None:
    text = moment.isoformat(timespec="seconds")
    found = list(
        state.api.query(
            f"select * from {entity} where Metadata.LastUpdatedTime = '{text}'"  # noqa: S608
        )
    )
    for start in range(0, len(found), PAGE_SIZE):
        _pull_page(state, entity, found[start : start + PAGE_SIZE])


# Push: here -> QuickBooks --------------------------------------------------------


def _body(state: _Run, link: QuickBooksLink) -> dict:
    """What QuickBooks is sent for our object (create; an update adds Id and
    SyncToken)."""
    if link.entity == SyncEntity.CUSTOMER:
        fields = client_fields(link.client)
        body: dict = {
            "DisplayName": link.client.display_name.strip(),
            "Notes": _marker(link),
        }
        if fields["email"]:
            body["PrimaryEmailAddr"] = {"Address": link.client.email.strip()}
        return body
    if link.entity == SyncEntity.INVOICE:
        invoice = link.invoice
        customer = _qbo_id_of(state, SyncEntity.CUSTOMER, client_id=invoice.client_id)
        return {
            "CustomerRef": {"value": customer},
            "DocNumber": invoice.display_number,
            "PrivateNote": _marker(link),
            "TxnDate": invoice.issue_date.isoformat() if invoice.issue_date else None,
            "DueDate": invoice.due_date.isoformat() if invoice.due_date else None,
            "Line": [
                {
                    "DetailType": "SalesItemLineDetail",
                    "Amount": float(invoice.total),
                    "Description": f"{invoice.display_number} (AdvisorOS)",
                    "SalesItemLineDetail": {"ItemRef": {"value": SERVICES_ITEM}},
                }
            ],
        }
    if link.entity == SyncEntity.CREDIT_MEMO:
        note = link.invoice
        customer = _qbo_id_of(state, SyncEntity.CUSTOMER, client_id=note.client_id)
        credited = note.credited_invoice
        what = f" on {credited.display_number}" if credited else ""
        return {
            "CustomerRef": {"value": customer},
            "DocNumber": note.display_number,
            "PrivateNote": _marker(link),
            "TxnDate": note.issue_date.isoformat() if note.issue_date else None,
            "Line": [
                {
                    "DetailType": "SalesItemLineDetail",
                    "Amount": float(note.total),
                    "Description": f"{note.display_number}{what} (AdvisorOS)",
                    "SalesItemLineDetail": {"ItemRef": {"value": SERVICES_ITEM}},
                }
            ],
        }
    payment = link.payment
    invoice_id = _qbo_id_of(state, SyncEntity.INVOICE, invoice_id=payment.invoice_id)
    customer = _qbo_id_of(state, SyncEntity.CUSTOMER, client_id=payment.client_id)
    return {
        "CustomerRef": {"value": customer},
        "TotalAmt": float(payment.amount),
        "TxnDate": payment.received_on.isoformat(),
        "PrivateNote": _marker(link),
        "Line": [
            {
                "Amount": float(payment.amount),
                "LinkedTxn": [{"TxnId": invoice_id, "TxnType": "Invoice"}],
            }
        ],
    }


def _qbo_id_of(state: _Run, entity: str, **ours) -> str:
    found = (
        _links(state)
        .filter(entity=entity, state=QuickBooksLink.State.SYNCED, **ours)
        .exclude(qbo_id="")
        .values_list("qbo_id", flat=True)
        .first()
    )
    if not found:
        raise ValidationError(f"Its {entity.lower()} is not in QuickBooks yet.")
    return found


def _push_label(link: QuickBooksLink) -> str:
    if link.entity == SyncEntity.CUSTOMER:
        return link.client.display_name
    if link.entity in INVOICE_ENTITIES:
        return link.invoice.display_number
    return f"Payment of {link.payment.invoice.display_number}"


def _push_refused(state: _Run, link: QuickBooksLink, exc: Exception) -> None:
    message = "; ".join(getattr(exc, "messages", None) or [str(exc)])
    _issue_error(
        state,
        direction=SyncIssue.Direction.PUSH,
        entity=link.entity,
        key=str(_our_object(link).uuid),
        label=_push_label(link),
        message=message,
    )


def _push_create(state: _Run, link: QuickBooksLink) -> None:
    """Create the link's object in QuickBooks. The link exists already (state
    pushing): whatever happens after Intuit answers, the next run finds it
    and sends the same requestid again."""
    ours = _our_object(link)
    try:
        body = _body(state, link)
        answer = state.api.create(
            link.entity,
            body,
            request_id=request_id(link.entity.lower(), ours.uuid, "create"),
        )
    except ValidationError as exc:
        _push_refused(state, link, exc)
        return
    except QuickBooksError as exc:
        if exc.status is None or exc.status >= 500 or exc.status == 429:
            raise
        _push_refused(state, link, exc)
        return
    with transaction.atomic():
        link.qbo_id = str(answer["Id"])
        link.sync_token = str(answer.get("SyncToken", ""))
        link.our_hash = digest(_ours(link))
        link.their_hash = digest(THEIR_FIELDS[link.entity](answer))
        if link.our_hash == VOID_HASH != link.their_hash:
            # Voided here while its push was under way: voided there next.
            link.our_hash = ""
        link.state = QuickBooksLink.State.SYNCED
        link.synced_at = timezone.now()
        link.save()
    state.count(link.entity, "pushed")
    _issue_close(
        state,
        direction=SyncIssue.Direction.PUSH,
        entity=link.entity,
        key=str(ours.uuid),
    )


def _push_update(state: _Run, link: QuickBooksLink) -> None:
    """Send our changed object with the SyncToken last read. QuickBooks
    changed it since (StaleObject): read it; a change to a field we do not
    sync (a customer's balance) is tried again with the new token, a change
    to a synced field is a conflict."""
    ours = _ours(link)
    our_hash = digest(ours)
    if our_hash == VOID_HASH:
        _push_void(state, link)
        return
    object_here = _our_object(link)
    for _ in range(2):
        body = {**_body(state, link), "Id": link.qbo_id, "SyncToken": link.sync_token}
        try:
            answer = state.api.update(
                link.entity,
                body,
                request_id=request_id(
                    link.entity.lower(),
                    object_here.uuid,
                    "update",
                    our_hash,
                    link.sync_token,
                ),
            )
        except StaleObject:
            current = state.api.read(link.entity, link.qbo_id)
            if digest(THEIR_FIELDS[link.entity](current)) != link.their_hash:
                with transaction.atomic():
                    _conflict(
                        state, link, ours=ours, obj=current, label=_push_label(link)
                    )
                state.count(link.entity, "conflicts")
                return
            link.sync_token = str(current.get("SyncToken", ""))
            continue
        except (ValidationError, QuickBooksError) as exc:
            if isinstance(exc, QuickBooksError) and (
                exc.status is None or exc.status >= 500 or exc.status == 429
            ):
                raise
            _push_refused(state, link, exc)
            return
        with transaction.atomic():
            link.sync_token = str(answer.get("SyncToken", ""))
            link.our_hash = our_hash
            link.their_hash = digest(THEIR_FIELDS[link.entity](answer))
            link.synced_at = timezone.now()
            link.save()
        state.count(link.entity, "pushed")
        _issue_close(
            state,
            direction=SyncIssue.Direction.PUSH,
            entity=link.entity,
            key=str(object_here.uuid),
        )
        return


def _push_void(state: _Run, link: QuickBooksLink) -> None:
    """Void our voided invoice in QuickBooks (`operation=void` with the
    SyncToken last read). QuickBooks changed it since: voided there too is in
    step; its amount changed is a conflict; anything else is tried again with
    the new token."""
    invoice = link.invoice
    for _ in range(2):
        try:
            answer = state.api.void(
                SyncEntity.INVOICE,
                {"Id": link.qbo_id, "SyncToken": link.sync_token},
                request_id=request_id("invoice", invoice.uuid, "void", link.sync_token),
            )
        except StaleObject:
            current = state.api.read(SyncEntity.INVOICE, link.qbo_id)
            theirs_now = digest(qbo_invoice_fields(current))
            if theirs_now not in (link.their_hash, VOID_HASH):
                with transaction.atomic():
                    _conflict(
                        state,
                        link,
                        ours=invoice_fields(invoice),
                        obj=current,
                        label=invoice.display_number,
                    )
                state.count(link.entity, "conflicts")
                return
            link.sync_token = str(current.get("SyncToken", ""))
            if theirs_now == VOID_HASH:
                answer = current
                break
            continue
        except QuickBooksError as exc:
            if exc.status is None or exc.status >= 500 or exc.status == 429:
                raise
            _push_refused(state, link, exc)
            return
        break
    else:
        return
    with transaction.atomic():
        link.sync_token = str(answer.get("SyncToken", ""))
        link.our_hash = VOID_HASH
        link.their_hash = digest(qbo_invoice_fields(answer))
        link.synced_at = timezone.now()
        link.save()
    state.count(link.entity, "pushed")
    _issue_close(
        state,
        direction=SyncIssue.Direction.PUSH,
        entity=link.entity,
        key=str(invoice.uuid),
    )


def _link_new(state: _Run, entity: str, **ours) -> QuickBooksLink:
    """The link, written (state pushing) before Intuit is called."""
    with transaction.atomic():
        link, _ = QuickBooksLink.objects.get_or_create(
            organization_id=state.organization_id,
            connection=state.connection,
            entity=entity,
            **ours,
            defaults={"state": QuickBooksLink.State.PUSHING},
        )
    return link


def _unlinked(state: _Run, entity: str, field_name: str):
    return ~Exists(_links(state).filter(entity=entity, **{field_name: OuterRef("pk")}))


def _push_pending(state: _Run) -> None:
    """Links a previous run wrote but never heard back for."""
    pending = (
        _links(state)
        .filter(state=QuickBooksLink.State.PUSHING)
        .select_related("client", "invoice__credited_invoice", "payment__invoice")
        .order_by("pk")
    )
    order = {e: i for i, e in enumerate(ENTITIES)}
    for link in sorted(pending, key=lambda x: (order[x.entity], x.pk)):
        _push_create(state, link)


def _push(state: _Run) -> None:
    org_id = state.organization_id
    invoices = (
        Invoice.objects.filter(organization_id=org_id, kind=InvoiceKind.INVOICE)
        .exclude(status__in=(InvoiceStatus.DRAFT, InvoiceStatus.VOID))
        .filter(_unlinked(state, SyncEntity.INVOICE, "invoice"))
        .select_related("client")
        .order_by("pk")
    )
    invoices = list(invoices)
    # The customers those invoices need, then clients renamed here.
    needed = {i.client_id: i.client for i in invoices}
    linked = set(
        _links(state)
        .filter(entity=SyncEntity.CUSTOMER, client_id__in=needed)
        .values_list("client_id", flat=True)
    )
    for client_id, client in sorted(needed.items()):
        if client_id not in linked:
            link = _link_new(state, SyncEntity.CUSTOMER, client=client)
            if link.state == QuickBooksLink.State.PUSHING:
                _push_create(state, link)
    changed = (
        _links(state)
        .filter(state=QuickBooksLink.State.SYNCED)
        .filter(
            Q(our_hash="")
            | Q(entity=SyncEntity.CUSTOMER, client__updated_at__gt=F("synced_at"))
            # Voided here since the last sync: the void goes over.
            | (
                Q(entity=SyncEntity.INVOICE, invoice__status=InvoiceStatus.VOID)
                & ~Q(our_hash=VOID_HASH)
            )
        )
        .select_related("client", "invoice", "payment__invoice")
        .order_by("pk")
    )
    untouched = []
    for link in changed:
        if link.our_hash and digest(_ours(link)) == link.our_hash:
            untouched.append(link.pk)  # saved, not changed in a synced field
            continue
        _push_update(state, link)
    if untouched:
        # Not looked at again until the next save.
        _links(state).filter(pk__in=untouched).update(synced_at=timezone.now())
    for invoice in invoices:
        link = _link_new(state, SyncEntity.INVOICE, invoice=invoice)
        if link.state == QuickBooksLink.State.PUSHING:
            _push_create(state, link)
    # Credit notes of invoices QuickBooks has, as credit memos of the customer.
    notes = (
        Invoice.objects.filter(organization_id=org_id, kind=InvoiceKind.CREDIT_NOTE)
        .exclude(status__in=(InvoiceStatus.DRAFT, InvoiceStatus.VOID))
        .filter(_unlinked(state, SyncEntity.CREDIT_MEMO, "invoice"))
        # Made here from a credit memo QuickBooks has: nothing to write.
        .exclude(
            Exists(
                CreditApplication.objects.filter(
                    organization_id=org_id, credit_note=OuterRef("pk")
                )
            )
        )
        .filter(
            Exists(
                _links(state).filter(
                    entity=SyncEntity.INVOICE,
                    invoice=OuterRef("credited_invoice"),
                    state=QuickBooksLink.State.SYNCED,
                )
            )
        )
        .select_related("client", "credited_invoice")
        .order_by("pk")
    )
    for note in notes:
        link = _link_new(state, SyncEntity.CREDIT_MEMO, invoice=note)
        if link.state == QuickBooksLink.State.PUSHING:
            _push_create(state, link)
    payments = (
        Payment.objects.filter(organization_id=org_id, status=PaymentStatus.SUCCEEDED)
        .filter(_unlinked(state, SyncEntity.PAYMENT, "payment"))
        .filter(
            Exists(
                _links(state).filter(
                    entity=SyncEntity.INVOICE,
                    invoice=OuterRef("invoice"),
                    state=QuickBooksLink.State.SYNCED,
                )
            )
        )
        .select_related("invoice")
        .order_by("pk")
    )
    for payment in payments:
        link = _link_new(state, SyncEntity.PAYMENT, payment=payment)
        if link.state == QuickBooksLink.State.PUSHING:
            _push_create(state, link)


# A run -----------------------------------------------------------------------------


def run_lock_key(connection: QuickBooksConnection) -> int:
    digest_ = hashlib.blake2b(f"qbosync:{connection.pk}".encode(), digest_size=8)
    return int.from_bytes(digest_.digest(), "big", signed=True)


@contextmanager
def _run_lock(connection: QuickBooksConnection) -> Iterator[bool]:
    """One run per connection at a time (a session advisory lock: a dead
    worker's is freed by the server). Yields whether this run got it."""
    key = run_lock_key(connection)
    with db_connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        got = cursor.fetchone()[0]
    try:
        yield got
    finally:
        if got:
            with db_connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


def _check(connection: QuickBooksConnection) -> None:
    if connection.kind != ConnectionKind.FIRM:
        raise SyncRefused("Only the firm's own books are synced this way.")
    if not connection.is_connected:
        raise SyncRefused("This QuickBooks company is not connected.")


def _last_cursor(connection: QuickBooksConnection) -> str:
    return (
        SyncRun.objects.filter(
            organization_id=connection.organization_id, connection=connection
        )
        .exclude(cursor="")
        .order_by("-started_at", "-pk")
        .values_list("cursor", flat=True)
        .first()
        or ""
    )


def quickbooks_sync_run(
    *,
    connection: QuickBooksConnection,
    full: bool = False,
    page_size: int = PAGE_SIZE,
) -> SyncRun | None:
    """One run of the sync (see the module's docstring). Returns the SyncRun,
    or None when another run of this connection is under way. Never inside a
    transaction: Intuit is called between our commits."""
    _check(connection)
    with _run_lock(connection) as got:
        if not got:
            return None
        cursor = "" if full else _last_cursor(connection)
        kind = SyncRun.Kind.FULL
        since = None
        if cursor.startswith("cdc:"):
            since = _parse_moment(cursor[4:])
            # CDC reads at most 30 days back (an hour's margin for the run).
            if since > timezone.now() - timedelta(days=CDC_MAX_DAYS) + timedelta(
                hours=1
            ):
                kind = SyncRun.Kind.INCREMENTAL
            else:
                cursor = ""
        run = SyncRun.objects.create(
            organization_id=connection.organization_id,
            connection=connection,
            kind=kind,
            cursor=cursor,
        )
        state = _Run(connection=connection, api=QuickBooksClient(connection), run=run)
        state.open_errors = set(
            SyncIssue.objects.filter(
                organization_id=connection.organization_id,
                connection=connection,
                kind=SyncIssue.Kind.ERROR,
                status=SyncIssue.Status.OPEN,
            ).values_list("direction", "entity", "key")
        )
        began = time.monotonic()
        failure = ""
        try:
            _push_pending(state)
            if kind == SyncRun.Kind.FULL:
                done = _pull_full(state, cursor, page_size)
            else:
                done = _pull_changes(state, since)
            _push(state)
            run.cursor = done
        except STOPS_A_RUN as exc:
            failure = str(exc)[:1000]
            logger.warning(
                "QuickBooks sync of firm %s stopped at %s: %s",
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
            run.errors.append({"entity": "", "id": "", "message": failure})
            run.status = SyncRun.Status.FAILED
        elif state.errors:
            run.status = SyncRun.Status.PARTIAL
        else:
            run.status = SyncRun.Status.SUCCEEDED
        run.save()
        return run


def sync_object_pull(
    *, connection: QuickBooksConnection, entity: str, qbo_id: str
) -> str:
    """Read one object by id (a webhook's, an error item's retry) and apply
    it as a run would. Idempotent: the same object again changes nothing."""
    _check(connection)
    if entity not in PULL:
        return "ignored"
    state = _Run(connection=connection, api=QuickBooksClient(connection))
    state.open_errors = {(SyncIssue.Direction.PULL, str(entity), str(qbo_id))}
    obj = state.api.read(entity, qbo_id)
    with transaction.atomic():
        links = _locked_links(state, entity, [str(obj.get("Id"))])
        return _pull_one(state, entity, obj, links.get(str(obj.get("Id"))))


# Resolving a conflict, retrying an error -----------------------------------------


class Resolution:
    KEEP_OURS = "keep_ours"
    TAKE_THEIRS = "take_theirs"
    LEAVE = "leave"


def resolutions_for(issue: SyncIssue) -> list[tuple[str, str]]:
    """What a person may choose for a conflict. Taking QuickBooks' side is
    for customers only: an issued invoice or a recorded payment is never
    edited here (a credit note or a refund is, by hand)."""
    if issue.kind != SyncIssue.Kind.CONFLICT:
        return []
    choices = [(Resolution.KEEP_OURS, "Keep ours (QuickBooks is updated)")]
    if issue.entity == SyncEntity.CUSTOMER:
        choices.append((Resolution.TAKE_THEIRS, "Take QuickBooks' (ours is updated)"))
    choices.append((Resolution.LEAVE, "Leave both as they are"))
    return choices


def sync_issue_resolve(*, issue: SyncIssue, choice: str, by: User) -> SyncIssue:
    """Close a conflict with a person's choice. The link is put in step with
    what was chosen; the writing to QuickBooks (keep ours) is done by the next
    run, which the caller queues."""
    if choice not in dict(resolutions_for(issue)):
        raise ValidationError("Choose one of the offered resolutions.")
    with transaction.atomic():
        locked = SyncIssue.objects.select_for_update().get(pk=issue.pk)
        if locked.status != SyncIssue.Status.OPEN:
            raise ValidationError("This conflict is already resolved.")
        link = (
            QuickBooksLink.objects.select_for_update(of=("self",))
            .select_related("client", "invoice", "payment")
            .get(organization_id=locked.organization_id, pk=locked.link_id)
        )
        theirs = {k: v for k, v in locked.theirs.items() if k != "sync_token"}
        link.sync_token = locked.theirs.get("sync_token", link.sync_token)
        link.their_hash = digest(theirs)
        if choice == Resolution.KEEP_OURS:
            link.our_hash = ""  # the next run writes ours to QuickBooks
        elif choice == Resolution.TAKE_THEIRS:
            client_update(
                client=link.client,
                data={"display_name": theirs["name"], "email": theirs["email"]},
            )
            link.our_hash = digest(client_fields(link.client))
        else:
            link.our_hash = digest(_ours(link))
        link.state = QuickBooksLink.State.SYNCED
        link.synced_at = timezone.now()
        link.save()
        locked.status = SyncIssue.Status.RESOLVED
        locked.resolution = choice
        locked.resolved_at = timezone.now()
        locked.resolved_by = by
        locked.save()
    issue.refresh_from_db()
    return issue
