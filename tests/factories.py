"""Builders and helpers that more than one test module needs, one of each.

Fixtures stay in the conftest.py files (the cast in tests/conftest.py); the plain
functions they and the tests call live here, so no test module imports another
and no module keeps its own copy. Rows are made through the services where the
service is what a test relies on (a client's search index, an upload's stored
file, the workflow engine), and written directly where a test needs a state no
service reaches (a search row with no file, a workflow in any status).
"""

from __future__ import annotations

import itertools
import json
import time
import zoneinfo
from collections.abc import Iterable, Sequence
from contextlib import ExitStack
from datetime import date, timedelta
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.utils import timezone

from advisoros.accounts.models import User
from advisoros.tenancy.db import platform_bypass, tenant_context
from advisoros.tenancy.models import (
    FirmSubscription,
    Membership,
    Organization,
    Plan,
    Role,
    SubscriptionStatus,
)
from clients.models import Client
from clients.services.clients import client_create
from documents.models import Document, OcrStatus
from documents.services.documents import document_create
from workflows.models import (
    StepDependency,
    StepTemplate,
    WorkflowExecution,
    WorkflowTemplate,
)

PASSWORD = "correct-horse-battery-9"

# People ----------------------------------------------------------------------------


def firm_day(days: int = 0) -> date:
    """`days` from today in the time zone the cast's firms keep (the default):
    the firm's today, which "due", "overdue" and "in the future" mean, and which
    is the server's (UTC) yesterday for hours every night."""
    zone = Organization._meta.get_field("timezone").default
    return timezone.localdate(timezone=zoneinfo.ZoneInfo(zone)) + timedelta(days=days)


def make_user(email: str, name: str) -> User:
    return User.objects.create_user(email, PASSWORD, name=name)


def make_member(
    organization: Organization, name: str, role: Role, *, is_active: bool = True
) -> User:
    """A new person in `organization` ("Stan Staff" -> stan.staff@alpha.test), for
    the tests that need one more than the cast has (a second staff member, a
    former member)."""
    email = name.lower().replace(" ", ".") + f"@{organization.slug}.test"
    with platform_bypass():
        user = make_user(email, name)
        Membership.objects.create(
            organization=organization, user=user, role=role, is_active=is_active
        )
    return user


# Clients ---------------------------------------------------------------------------


def make_client(organization: Organization, display_name: str, **data) -> Client:
    """A client made through the clients service (its code, sort name and search
    index as a person's entry would have them). `tags=[...]` sets its tags."""
    tags = data.pop("tags", ())
    with tenant_context(organization):
        return client_create(
            organization=organization,
            data={"display_name": display_name, **data},
            tags=tags,
        )


# Billing ---------------------------------------------------------------------------


def make_draft_invoice(
    client: Client, by: User, lines=(("Tax return", "1", "500"),), **kw
):
    """A draft for `client` with fixed-fee `lines` of (description, quantity,
    unit price), made through the invoice services."""
    from decimal import Decimal

    from billing.services.invoices import invoice_add_line, invoice_create

    with tenant_context(client.organization):
        invoice = invoice_create(
            organization=client.organization, client=client, by=by, **kw
        )
        for description, quantity, price in lines:
            invoice_add_line(
                invoice=invoice,
                by=by,
                description=description,
                quantity=Decimal(quantity),
                unit_price=Decimal(price),
            )
        invoice.refresh_from_db()
        return invoice


def make_issued_invoice(
    client: Client, by: User, lines=(("Tax return", "1", "500"),), **kw
):
    """A draft made by `make_draft_invoice`, then issued (numbered, sent)."""
    from billing.services.invoices import invoice_issue

    invoice = make_draft_invoice(client, by, lines, **kw)
    with tenant_context(client.organization):
        return invoice_issue(invoice=invoice, by=by)


def make_retainer(client: Client, name: str = "Monthly bookkeeping", **fields):
    """An engagement of `client` on a monthly retainer (written directly)."""
    from decimal import Decimal

    from clients.models import Engagement, EngagementType, FeeModel

    fields.setdefault("engagement_type", EngagementType.BOOKKEEPING)
    fields.setdefault("fee_model", FeeModel.RETAINER)
    fields.setdefault("fee_amount", Decimal("450.00"))
    with tenant_context(client.organization):
        return Engagement.objects.create(
            organization=client.organization, client=client, name=name, **fields
        )


def make_recurring_invoice(
    engagement, by: User, *, next_date: date, lines=(("Bookkeeping", "1", "450"),), **kw
):
    """A recurring invoice of `engagement` from `next_date`, made through the
    service (its `today` is `next_date`, so any date is accepted)."""
    from decimal import Decimal

    from billing.services.recurring import LineData, recurring_invoice_create

    kw.setdefault("cadence", "monthly")
    with tenant_context(engagement.organization):
        return recurring_invoice_create(
            organization=engagement.organization,
            engagement=engagement,
            by=by,
            next_date=next_date,
            today=kw.pop("today", next_date),
            lines=[
                LineData(description=d, quantity=Decimal(q), unit_price=Decimal(p))
                for d, q, p in lines
            ],
            **kw,
        )


# Time ------------------------------------------------------------------------------


def time_entries(organization: Organization, **filters) -> list:
    """The firm's time entries (in the order they were made)."""
    from billing.models import TimeEntry

    with tenant_context(organization):
        return list(
            TimeEntry.objects.filter(organization=organization, **filters).order_by(
                "pk"
            )
        )


def timers(organization: Organization, **filters) -> list:
    """The firm's running timers."""
    from billing.models import Timer

    with tenant_context(organization):
        return list(Timer.objects.filter(organization=organization, **filters))


def run_timer_back(user: User, organization: Organization, minutes: float) -> None:
    """Make `user`'s running timer look started `minutes` ago."""
    from datetime import timedelta

    from billing.models import Timer

    with tenant_context(organization):
        Timer.objects.filter(organization=organization, user=user).update(
            started_at=timezone.now() - timedelta(minutes=minutes)
        )


# Documents -------------------------------------------------------------------------

_document_numbers = itertools.count(1)
LEDGER = b"date,amount\n2024-01-02,10.00\n"


def make_document(client: Client, **fields) -> Document:
    """A document row of `client` with a dummy file path and its OCR done: for
    the tests that read rows only (search, lists), never the file."""
    n = next(_document_numbers)
    values = {
        "title": f"Document {n}",
        "original_filename": f"scan-{n}.pdf",
        "file": f"private/{client.organization_id}/documents/test-{n}",
        "size": 1000,
        "mime_type": "application/pdf",
        "checksum": f"{n:064d}",
        "ocr_status": OcrStatus.COMPLETED,
        **fields,
    }
    with tenant_context(client.organization):
        return Document.objects.create(
            organization_id=client.organization_id, client=client, **values
        )


def upload_document(
    client: Client,
    user: User | None = None,
    content: bytes = LEDGER,
    filename: str = "ledger.csv",
    **fields,
) -> Document:
    """A document (version 1) uploaded by `user` through the upload service, its
    file in the storage (a CSV ledger unless told: no OCR to wait for). `fields`
    are `document_create`'s (title, category, access_level ...)."""
    with tenant_context(client.organization):
        return document_create(
            client=client,
            file=ContentFile(content),
            filename=filename,
            uploaded_by=user,
            **fields,
        )


# Workflows -------------------------------------------------------------------------

START = date(2027, 3, 1)  # the day a started workflow begins, unless told


def make_template(
    organization: Organization, name: str = "Tax return", steps=(), **fields
) -> WorkflowTemplate:
    """make_template(org, "1040", [("Gather", {}), ("Prepare", {"after": ["Gather"]})])

    Written directly (not through the template services) so a test can set any
    shape. Each step is (title, fields); fields may hold "after": titles of the
    steps it depends on, and any StepTemplate field (assignee_rule, needs_approval)."""
    with tenant_context(organization):
        template = WorkflowTemplate.objects.create(
            organization=organization,
            name=name,
            category=fields.pop("category", "tax"),
            **fields,
        )
        by_title = {}
        after = {}
        for position, (title, step_fields) in enumerate(steps):
            step_fields = dict(step_fields)
            after[title] = step_fields.pop("after", [])
            by_title[title] = StepTemplate.objects.create(
                organization=organization,
                template=template,
                position=position,
                title=title,
                **step_fields,
            )
        StepDependency.objects.bulk_create(
            StepDependency(
                organization=organization,
                step=by_title[title],
                depends_on=by_title[before],
            )
            for title, befores in after.items()
            for before in befores
        )
    return template


def start_workflow(
    template: WorkflowTemplate, client: Client, **kwargs
) -> WorkflowExecution:
    """`template` started for `client` by the engine (`execution_start`): its tasks,
    dependencies and assignees as in production."""
    from workflows.services.executions import execution_start

    kwargs.setdefault("start_date", START)
    with tenant_context(template.organization):
        return execution_start(template=template, client=client, **kwargs)


def make_execution(
    client: Client, name: str = "2026 Form 1040", **fields
) -> WorkflowExecution:
    """A workflow row written directly (no template, no tasks), for the pages that
    list workflows and tasks in any state."""
    fields.setdefault("start_date", timezone.localdate())
    with tenant_context(client.organization):
        return WorkflowExecution.objects.create(
            organization=client.organization, client=client, name=name, **fields
        )


# Two sessions at once --------------------------------------------------------------


def wait_for_lock_waiters(
    count: int = 1, *, statement: str = "", timeout: float = 10
) -> bool:
    """Whether `count` other sessions of the test database were seen waiting for a
    lock (heavyweight: a row, a unique key, a table) within `timeout` seconds.

    The concurrency tests hold a transaction open on one connection and start a
    second writer on another; this is how they know the second one reached the
    contested statement, and did not merely run late. `statement`: only sessions
    whose current statement contains it count ("UPDATE workflows_notification").
    Only this database's sessions count: parallel test runs use databases of
    their own.
    """
    deadline = time.monotonic() + timeout
    while True:
        with connection.cursor() as cursor:
            # Statistics views are a snapshot per transaction: take a fresh one.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                " AND wait_event_type = 'Lock' AND strpos(query, %s) > 0",
                [statement],
            )
            (waiting,) = cursor.fetchone()
        if waiting >= count:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)


# Query plans -----------------------------------------------------------------------


def explain(
    sql: str,
    params: Sequence | None = None,
    *,
    organization: Organization | None = None,
    seqscan: bool = True,
) -> list[dict]:
    """Every node of the plan PostgreSQL makes for `sql`, as the app role (under
    the row-level security policies, as the page's own query runs).

    In `organization`'s context when one is named, else in the caller's (which
    may have set a firm or a role itself). `seqscan=False` prices sequential
    scans out, so a test on a small table asks whether an index *can* serve the
    query rather than whether the planner prefers it at this size. SQL captured
    from a page comes with its values inlined: leave `params` None then, so its
    `%` signs stay literal.
    """
    with ExitStack() as stack:
        stack.enter_context(transaction.atomic())  # SET LOCAL ends with it
        if organization is not None:
            stack.enter_context(tenant_context(organization))
        cursor = stack.enter_context(connection.cursor())
        if not seqscan:
            cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        (plan,) = cursor.fetchone()
    plan = json.loads(plan) if isinstance(plan, str) else plan
    nodes, todo = [], [plan[0]["Plan"]]
    while todo:
        node = todo.pop()
        nodes.append(node)
        todo.extend(node.get("Plans", []))
    return nodes


def index_scans(
    nodes: Iterable[dict], *, tables: Iterable[str] = ()
) -> dict[str, dict]:
    """The plan's index scans by index name; fails on a sequential scan of any of
    `tables` (the ones whose index the test is about)."""
    tables = set(tables)
    scans = {}
    for node in nodes:
        relation = node.get("Relation Name")
        assert not (node["Node Type"] == "Seq Scan" and relation in tables), (
            f"sequential scan on {relation}"
        )
        if node.get("Index Name"):
            scans[node["Index Name"]] = node
    return scans


# Billing rows, written directly --------------------------------------------------
# For the money reports' tests: invoices in any status with exact amounts, as
# the billing services leave them (numbers on issued ones, totals from the
# lines, amount_paid moved by payments net of refunds).


def write_time_entry(
    client: Client,
    user: User,
    *,
    minutes: int = 60,
    rate: Decimal | str = "150",
    day: date | None = None,
    engagement=None,
    billable: bool = True,
    invoice_line=None,
    description: str = "",
):
    from billing.models import TimeEntry

    with tenant_context(client.organization):
        return TimeEntry.objects.create(
            organization_id=client.organization_id,
            user=user,
            client=client,
            engagement=engagement,
            date=day or timezone.localdate(),
            minutes=minutes,
            description=description,
            recorded_minutes=minutes,
            rate=Decimal(rate),
            billable=billable,
            invoice_line=invoice_line,
        )


def write_invoice(
    client: Client,
    *,
    lines: Sequence[tuple] = (),
    status: str = "sent",
    kind: str = "invoice",
    issue_date: date | None = None,
    due_date: date | None = None,
    engagement=None,
    discount_amount: Decimal | str = "0",
    tax_amount: Decimal | str = "0",
    credited_invoice=None,
):
    """An invoice (or credit note) with `lines`: (amount, standard_amount) or
    (amount, standard_amount, engagement). Totals follow the lines; an issued one
    gets the next number from the firm's counter, as issuing one does (so it
    never takes a number the service hands out later). A credit note adds its
    total to the credited invoice's amount_credited, as issuing one does."""
    from django.db import transaction

    from billing.models import Invoice, InvoiceLine
    from billing.services.invoices import _take_number

    subtotal = sum((Decimal(line[0]) for line in lines), Decimal("0.00"))
    discount, tax = Decimal(discount_amount), Decimal(tax_amount)
    with tenant_context(client.organization), transaction.atomic():
        invoice = Invoice.objects.create(
            organization_id=client.organization_id,
            client=client,
            engagement=engagement,
            kind=kind,
            status=status,
            number=None
            if status == "draft"
            else _take_number(client.organization_id, kind),
            issue_date=issue_date,
            due_date=due_date,
            subtotal=subtotal,
            discount_amount=discount,
            tax_amount=tax,
            total=subtotal - discount + tax,
            credited_invoice=credited_invoice,
        )
        for position, (amount, standard, *rest) in enumerate(lines):
            InvoiceLine.objects.create(
                organization_id=client.organization_id,
                invoice=invoice,
                position=position,
                kind="fee",
                description=f"Line {position + 1}",
                unit_price=Decimal(amount),
                amount=Decimal(amount),
                standard_amount=Decimal(standard),
                engagement=rest[0] if rest else None,
            )
        if credited_invoice is not None and status != "draft":
            credited_invoice.amount_credited += invoice.total
            credited_invoice.save(update_fields=["amount_credited"])
    return invoice


def write_payment(
    invoice,
    amount: Decimal | str,
    *,
    refunded: Decimal | str = "0",
    status: str = "succeeded",
    received_on: date | None = None,
):
    """A payment of `invoice` (and a refund of `refunded` of it); a succeeded one
    adds what it kept to the invoice's amount_paid."""
    from billing.models import Payment, Refund

    amount, refunded = Decimal(amount), Decimal(refunded)
    with tenant_context(invoice.client.organization):
        payment = Payment.objects.create(
            organization_id=invoice.organization_id,
            invoice=invoice,
            client_id=invoice.client_id,
            amount=amount,
            currency=invoice.currency,
            method="check",
            status=status,
            received_on=received_on or timezone.localdate(),
            amount_refunded=refunded,
        )
        if refunded:
            Refund.objects.create(
                organization_id=invoice.organization_id,
                payment=payment,
                amount=refunded,
            )
        if status == "succeeded":
            invoice.amount_paid += amount - refunded
            invoice.save(update_fields=["amount_paid"])
    return payment


def make_billing_contact(client: Client, email: str, role: str = "billing"):
    """A contact of `client` with `email`, in `role` (billing or primary): where
    invoices and receipts go (billing.emails.invoice_recipients)."""
    from clients.models import ClientContact, Contact

    with tenant_context(client.organization):
        contact = Contact.objects.create(
            organization=client.organization, first_name="Bill", email=email
        )
        ClientContact.objects.create(
            organization=client.organization, client=client, contact=contact, role=role
        )
    return contact


def make_invoices(client: Client, count: int, *, first_number: int = 1, **fields):
    """`count` issued invoices of `client` written directly in one insert (for the
    lists' paging and query counts): numbered from `first_number`, 100.00 each,
    sent today and due in 30 days unless `fields` say otherwise."""
    from datetime import timedelta
    from decimal import Decimal

    from billing.models import Invoice

    today = timezone.localdate()
    values = {
        "status": "sent",
        "issue_date": today,
        "due_date": today + timedelta(days=30),
        "subtotal": Decimal("100.00"),
        "total": Decimal("100.00"),
        "issued_at": timezone.now(),
        **fields,
    }
    with tenant_context(client.organization):
        return Invoice.objects.bulk_create(
            Invoice(
                organization=client.organization,
                client=client,
                number=first_number + i,
                **values,
            )
            for i in range(count)
        )


# The firm's own subscription -------------------------------------------------------


def make_plan(code: str, name: str, **fields) -> Plan:
    """A plan of the hosted service (the migration's plans may have been
    flushed by a transactional test: each test makes the ones it needs). The
    first plan made default stays the only default."""
    fields.setdefault("is_default", code == "starter")
    if fields["is_default"]:
        Plan.objects.filter(is_default=True).exclude(code=code).update(is_default=False)
    plan, _ = Plan.objects.update_or_create(
        code=code,
        defaults={"name": name, "trial_days": 14, **fields},
    )
    return plan


def make_subscription(
    organization: Organization, plan: Plan, **fields
) -> FirmSubscription:
    """The firm's subscription (replacing any): a trial with ten days left
    unless `fields` say otherwise."""
    fields.setdefault("status", SubscriptionStatus.TRIALING)
    fields.setdefault("trial_ends_at", timezone.now() + timedelta(days=10))
    with tenant_context(organization):
        FirmSubscription.objects.filter(organization=organization).delete()
        return FirmSubscription.objects.create(
            organization=organization, plan=plan, **fields
        )


def subscribe_through_checkout(
    http, standin, slug: str, plan_code: str, *, deliver: bool = True
) -> str:
    """An owner (`http`, signed in) subscribes firm `slug` to `plan_code` on its
    Subscription page and pays on the stand-in's Checkout page; the events go
    to the platform's webhook when `deliver`. Returns the Checkout session's id."""
    response = http.post(f"/o/{slug}/subscription/checkout/", {"plan": plan_code})
    assert response.status_code == 302, response
    session_id = response.url.rsplit("/", 1)[-1]
    assert session_id.startswith("cs_test_"), response.url
    standin.complete_checkout(session_id, deliver=deliver)
    return session_id
