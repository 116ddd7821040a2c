"""Benchmark: a full QuickBooks sync of 10,000 transactions (registered as the
measure `quickbooks_full_sync`).

The firm `bench-qbo` has 1,000 clients, 5,000 issued invoices and 5,000
payments, all linked to their twins in its QuickBooks company, as a previous
sync left them; the company is the Intuit stand-in (tests/standins/intuit.py,
on loopback, reached through the real client with its limits: at most 10
requests at once and 500 a minute). Since then, in QuickBooks, 2% of the
customers were renamed and 1% of the invoices had their amount changed. The
measured run is a full sync (what a firm gets when its cursor is more than 30
days old, or on asking for one): every customer, invoice and payment read in
pages of 1,000 and compared with ours by id, the renames applied, the amount
changes shown as conflicts. Printed: the wall time, the requests made (and the
most in flight at once), objects per second; the run is also checked: every
object read, the expected updates and conflicts, no error.

The rows are seeded once (bulk inserts, not the services: the bench measures
the sync, not the seeding) and the company is rebuilt in the stand-in every
run; the firm's runs, issues and the changes applied are put back afterwards
so the next run measures the same work.
"""

from __future__ import annotations

import secrets
import time
from datetime import timedelta
from decimal import Decimal

from django.test.utils import override_settings
from django.utils import timezone

from advisoros.tenancy.db import tenant_context
from bench.harness import bench_firm_ensure, register_measure
from billing.models import Invoice, Payment
from clients.models import Client
from integrations.quickbooks.models import (
    QuickBooksConnection,
    QuickBooksLink,
    SyncIssue,
    SyncRun,
)
from integrations.quickbooks.sync import (
    client_fields,
    digest,
    invoice_fields,
    payment_fields,
    quickbooks_sync_run,
)

FIRM = "bench-qbo"
REALM = "9990001"
CLIENTS = 1_000
INVOICES = 5_000  # one payment each: 10,000 transactions
RENAMED_EVERY = 50  # 2% of the customers
CHANGED_EVERY = 100  # 1% of the invoices
TARGET_SECONDS = 120.0


def _seed_rows(organization) -> None:
    """Our side, once: clients, issued invoices, their payments."""
    if Client.objects.filter(organization=organization).count() >= CLIENTS:
        return
    today = timezone.localdate()
    clients = Client.objects.bulk_create(
        Client(
            organization=organization,
            client_code=f"QB{n:05d}",
            display_name=f"Customer {n:05d}",
            sort_name=f"customer {n:05d}",
            email=f"c{n}@bench.test",
        )
        for n in range(CLIENTS)
    )
    invoices = Invoice.objects.bulk_create(
        Invoice(
            organization=organization,
            client=clients[n % CLIENTS],
            number=n + 1,
            status="paid",
            issue_date=today - timedelta(days=n % 300),
            due_date=today - timedelta(days=n % 300) + timedelta(days=30),
            subtotal=Decimal(100 + n % 900),
            total=Decimal(100 + n % 900),
            amount_paid=Decimal(100 + n % 900),
        )
        for n in range(INVOICES)
    )
    Payment.objects.bulk_create(
        Payment(
            organization=organization,
            invoice=invoice,
            client_id=invoice.client_id,
            amount=invoice.total,
            currency="USD",
            method="check",
            received_on=invoice.issue_date,
        )
        for invoice in invoices
    )


def _connection(organization, standin) -> QuickBooksConnection:
    """The firm's books, connected with a grant the stand-in knows."""
    from tests.standins.intuit import Grant

    now = time.time()
    grant = Grant(
        realm=REALM,
        refresh_token=secrets.token_urlsafe(32),
        refresh_expires=now + 86400,
        hard_expires=now + 86400,
    )
    access = secrets.token_urlsafe(32)
    with standin.lock:
        standin.grants.append(grant)
        standin.access[access] = (grant, now + 3600)
    connection, _ = QuickBooksConnection.objects.update_or_create(
        organization=organization,
        kind="firm",
        defaults={
            "realm_id": REALM,
            "company_name": "Bench books",
            "access_token": access,
            "refresh_token": grant.refresh_token,
            "access_expires_at": timezone.now() + timedelta(hours=1),
            "refresh_expires_at": timezone.now() + timedelta(days=1),
            "status": "connected",
        },
    )
    return connection


def _synced(connection, entity: str, obj: dict, fields: dict, **ours) -> QuickBooksLink:
    """A link as a sync leaves it: both sides' hashes the same, in step."""
    return QuickBooksLink(
        organization_id=connection.organization_id,
        connection=connection,
        entity=entity,
        qbo_id=obj["Id"],
        sync_token=obj["SyncToken"],
        our_hash=digest(fields),
        their_hash=digest(fields),
        state="synced",
        synced_at=timezone.now(),
        **ours,
    )


def _company_and_links(organization, connection, standin) -> dict[str, int]:
    """The company as a previous sync left it, then changed in QuickBooks."""
    company = standin.add_company(REALM, name="Bench books")
    QuickBooksLink.objects.filter(organization=organization).delete()
    links = []
    clients = list(Client.objects.filter(organization=organization).order_by("pk"))
    customer_of = {}
    for n, client in enumerate(clients):
        obj = company.add(
            "Customer",
            Id=str(n + 1),
            DisplayName=client.display_name,
            PrimaryEmailAddr={"Address": client.email},
        )
        customer_of[client.pk] = obj["Id"]
        links.append(
            _synced(connection, "Customer", obj, client_fields(client), client=client)
        )
    invoices = list(Invoice.objects.filter(organization=organization).order_by("pk"))
    invoice_of = {}
    for n, invoice in enumerate(invoices):
        obj = company.add(
            "Invoice",
            Id=str(100_000 + n),
            CustomerRef={"value": customer_of[invoice.client_id]},
            DocNumber=invoice.display_number,
            TotalAmt=float(invoice.total),
        )
        invoice_of[invoice.pk] = obj["Id"]
        links.append(
            _synced(
                connection, "Invoice", obj, invoice_fields(invoice), invoice=invoice
            )
        )
    payments = list(Payment.objects.filter(organization=organization).order_by("pk"))
    for n, payment in enumerate(payments):
        obj = company.add(
            "Payment",
            Id=str(200_000 + n),
            TotalAmt=float(payment.amount),
            Line=[
                {
                    "Amount": float(payment.amount),
                    "LinkedTxn": [
                        {"TxnId": invoice_of[payment.invoice_id], "TxnType": "Invoice"}
                    ],
                }
            ],
        )
        links.append(
            _synced(
                connection, "Payment", obj, payment_fields(payment), payment=payment
            )
        )
    QuickBooksLink.objects.bulk_create(links, batch_size=2000)
    renamed = changed = 0
    for n in range(0, len(clients), RENAMED_EVERY):
        company.touch("Customer", str(n + 1), DisplayName=f"Customer {n:05d} Renamed")
        renamed += 1
    for n in range(0, len(invoices), CHANGED_EVERY):
        obj = company.entities("Invoice")[str(100_000 + n)]
        company.touch("Invoice", obj["Id"], TotalAmt=obj["TotalAmt"] + 1)
        changed += 1
    return {"renamed": renamed, "changed": changed}


def _put_back(organization) -> None:
    """The next run measures the same work: names back, no runs or issues."""
    SyncIssue.objects.filter(organization=organization).delete()
    SyncRun.objects.filter(organization=organization).delete()
    QuickBooksLink.objects.filter(organization=organization).delete()
    for client in Client.objects.filter(
        organization=organization, display_name__endswith=" Renamed"
    ):
        name = client.display_name.removesuffix(" Renamed")
        Client.objects.filter(pk=client.pk).update(
            display_name=name, sort_name=name.lower()
        )


@register_measure("quickbooks_full_sync")
def quickbooks_full_sync(*, stdout) -> list[dict]:
    from tests.standins import intuit
    from tests.standins.intuit import IntuitStandin

    firm = bench_firm_ensure(FIRM, members=0)
    organization = firm.organization
    standin = IntuitStandin().start()
    try:
        with (
            override_settings(
                INTUIT_CLIENT_ID=intuit.CLIENT_ID,
                INTUIT_CLIENT_SECRET=intuit.CLIENT_SECRET,
                INTUIT_REDIRECT_URI="http://testserver/integrations/quickbooks/callback/",
                INTUIT_ENVIRONMENT=standin.discovery_url,
                INTUIT_API_BASE=standin.url,
            ),
            tenant_context(organization),
        ):
            _put_back(organization)
            _seed_rows(organization)
            connection = _connection(organization, standin)
            expected = _company_and_links(organization, connection, standin)
            began = time.monotonic()
            run = quickbooks_sync_run(connection=connection, full=True)
            wall = time.monotonic() - began
            assert run is not None
            _put_back(organization)
    finally:
        standin.stop()
    read = sum(sum(per.values()) for per in run.counts.values())
    transactions = sum(
        sum(run.counts.get(e, {}).values()) for e in ("Invoice", "Payment")
    )
    in_flight = max(standin.most_in_flight.values(), default=0)
    per_minute = run.requests_made / max(wall / 60, 1 / 60)
    problems = []
    if transactions != 2 * INVOICES:
        problems.append(f"{transactions} transactions read, not {2 * INVOICES}")
    if run.counts.get("Customer", {}).get("updated") != expected["renamed"]:
        problems.append(f"renames applied: {run.counts.get('Customer')}")
    if run.counts.get("Invoice", {}).get("conflicts") != expected["changed"]:
        problems.append(f"conflicts: {run.counts.get('Invoice')}")
    if run.error_count:
        problems.append(f"{run.error_count} errors")
    if problems:
        raise RuntimeError("; ".join(problems))
    stdout.write(
        f"  full sync of {transactions} transactions and {CLIENTS} customers "
        f"({read} objects) in {wall:.1f} s: {read / wall:.0f} objects/s, "
        f"{run.requests_made} requests (at most {in_flight} at once), "
        f"{expected['renamed']} renames applied, {expected['changed']} "
        f"conflicts shown"
    )
    records = [
        {"name": "quickbooks_full_sync.seconds", "value": round(wall, 2),
         "unit": "s", "dataset_size": transactions},
        {"name": "quickbooks_full_sync.requests", "value": run.requests_made,
         "unit": "requests", "dataset_size": transactions},
        {"name": "quickbooks_full_sync.objects_per_s", "value": round(read / wall),
         "unit": "objects/s", "dataset_size": read},
    ]  # fmt: skip
    if wall > TARGET_SECONDS:
        records[0]["missed"] = f"under {TARGET_SECONDS:g} s"
    if in_flight > 10 or (run.requests_made > 500 and per_minute > 500):
        records[1]["missed"] = "10 at once and 500 a minute"
    return records
