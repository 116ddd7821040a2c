"""Every staff page meets WCAG 2.1 AA (axe-core finds nothing) and fits its screen,
on a desk (1280 wide) and on a phone (390 wide).

Alice, Alpha's owner, walks the pages of a small firm with one of each thing: a
client with contacts, an engagement, notes, a document, a document request, a
message from the portal and a workflow with its tasks. Then Oscar walks the same
lists in Beta, a firm with nothing in it yet: the empty states.

One browser context serves the module; each width is one test that visits every
page, and the faults of all pages are reported together.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from advisoros.nav import declared_nav
from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.models import JobFailure
from billing.services.invoices import (
    credit_note_create,
    invoice_add_time,
    invoice_issue,
    invoice_line_update,
)
from billing.services.payments import payment_record, payment_refund
from clients.models import ClientImport, EngagementType
from clients.services.engagements import engagement_create
from clients.services.notes import note_create
from portal.services.messages import message_send
from tests.browser.axe import fit_and_accessibility_faults
from tests.browser.conftest import sign_in
from tests.browser.staff_pages import CLIENT_TABS, PAGES
from tests.conftest import PASSWORD
from tests.factories import (
    make_client,
    make_draft_invoice,
    make_recurring_invoice,
    make_template,
    start_workflow,
    upload_document,
    write_invoice,
    write_payment,
    write_time_entry,
)
from tests.portal.builders import make_contact, make_grant, make_request
from workflows.models import RecurringSchedule

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {
    "desk": {"width": 1280, "height": 900},
    "phone": {"width": 390, "height": 844},
}
# The empty firm's walk, for the empty states: the lists (every page of PAGES
# but the two forms) and the searches.
EMPTY_PAGES = [
    path for path, _ in PAGES if not path.startswith(("clients/new", "workflows/start"))
] + ["documents/", "documents/?q=nothing-matches-this", "portal/messages/"]
LISTS_WITH_ROWS = frozenset(path for path, rows in PAGES if rows)
# htmx fills some parts in after the page loads (the bell's count, a client's
# recent activity): the page is checked once no htmx request is in flight.
HTMX_QUIET = "() => document.querySelector('.htmx-request') === null"


@pytest.fixture(scope="module")
def tab(browser, live_server) -> Iterator:
    """The module's one browser context and tab; each test signs in afresh."""
    context = browser.new_context(base_url=live_server.url)
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    tab.errors = []
    tab.on("console", lambda msg: msg.type == "error" and tab.errors.append(msg.text))
    tab.on("pageerror", lambda exc: tab.errors.append(str(exc)))
    yield tab
    context.close()


@pytest.fixture
def small_firm(cast, settings, tmp_path) -> list[str]:
    """Alpha with one of each thing; returns the paths (under /o/alpha/) of the
    pages about them."""
    settings.MEDIA_ROOT = str(tmp_path)
    org = cast.alpha
    jane = make_client(
        org, "Jane Example", legal_name="Jane Example LLC", partner=cast.alice
    )
    joan = make_contact(jane, "Joan", "Example", "joan@client.test")
    make_contact(jane, "Jim", "Example", "jim@client.test")
    make_grant(joan, jane, can_upload=True)
    request = make_request(
        jane, "2026 tax documents", ["W-2", "1099-INT"], by=cast.alice
    )
    document = upload_document(jane, cast.alice, title="2026 tax ledger")
    template = make_template(
        org,
        "Individual tax return",
        [
            ("Gather documents", {"assignee_rule": "partner"}),
            (
                "Prepare return",
                {"after": ["Gather documents"], "assignee_rule": "preparer"},
            ),
            ("Review", {"after": ["Prepare return"], "assignee_rule": "partner"}),
        ],
    )
    with tenant_context(org):
        engagement = engagement_create(
            client=jane,
            data={
                "name": "2026 individual tax return",
                "engagement_type": EngagementType.INDIVIDUAL_TAX,
                "fee_amount": Decimal("1200"),
                "due_date": timezone.localdate() + timedelta(days=30),
                "partner": cast.alice,
                "preparer": cast.sam,
            },
        )
        note = note_create(
            client=jane, author=cast.alice, data={"body": "Called about the W-2."}
        )
        message_send(client=jane, body="The W-2 is on its way.", sender_contact=joan)
        RecurringSchedule.objects.create(
            organization=org,
            client=jane,
            template=template,
            frequency="yearly",
            starts_on=timezone.localdate(),
        )
        ClientImport.objects.create(
            organization=org,
            created_by=cast.alice,
            filename="clients.csv",
            content="Name\nJim Example\n",
        )
        JobFailure.objects.create(
            organization=org, func="documents.tasks.ocr", error="Timed out"
        )
    # Billing: unbilled time, an invoice partly paid and past due, a draft.
    today = timezone.localdate()
    entry = write_time_entry(
        jane, cast.alice, minutes=90, rate="200", day=today, engagement=engagement
    )
    invoice = write_invoice(
        jane,
        lines=[("1000", "1200", engagement)],
        status="partial",
        issue_date=today - timedelta(days=40),
        due_date=today - timedelta(days=10),
        engagement=engagement,
    )
    write_payment(invoice, "400")
    write_invoice(jane, lines=[("300", "300")], status="draft")
    execution = start_workflow(template, jane, engagement=engagement)
    recurring = make_recurring_invoice(
        engagement, cast.alice, next_date=timezone.localdate()
    )
    with tenant_context(org):
        task = execution.tasks.order_by("step_index").first()
        item = request.items.first()
    invoice, draft, credit_note = _invoices(jane, engagement, cast.alice)
    with tenant_context(org):
        line = draft.lines.order_by("position").first()
        unbilled = jane.time_entries.filter(invoice_line__isnull=True).first()
    client = f"clients/{jane.uuid}/"
    ledger, upload = _ledger(jane, cast.alice)
    return [
        *(path for path, _ in PAGES),
        "documents/",
        "documents/?q=ledger",
        "documents/?q=nothing-matches-this",
        *(f"{client}?tab={t}" for t in CLIENT_TABS),
        f"{client}edit/",
        f"{client}contacts/new/",
        f"{client}engagements/new/",
        f"{client}notes/new/",
        f"{client}documents/upload/",
        f"{client}requests/",
        f"{client}requests/new/",
        f"contacts/{joan.uuid}/edit/",
        f"notes/{note.uuid}/edit/",
        f"engagements/{engagement.uuid}/",
        f"engagements/{engagement.uuid}/edit/",
        f"documents/{document.uuid}/",
        f"documents/{document.uuid}/edit/",
        f"documents/{document.uuid}/versions/new/",
        f"documents/requests/{request.uuid}/",
        f"documents/requests/items/{item.uuid}/edit/",
        "documents/retention/purged/",
        f"workflows/{execution.uuid}/",
        f"tasks/{task.uuid}/",
        "tasks/new/",
        f"workflows/templates/{template.uuid}/",
        f"workflows/templates/{template.uuid}/edit/",
        "workflows/templates/new/",
        "workflows/schedules/new/",
        f"billing/recurring/{recurring.uuid}/",
        f"billing/recurring/new/{engagement.uuid}/",
        f"billing/recurring/engagement/{engagement.uuid}/",
        "portal/messages/",
        f"portal/messages/{jane.uuid}/",
        f"portal/contacts/{joan.uuid}/",
        "billing/reports/?group=engagement",
        "billing/reports/?group=partner",
        "billing/reports/realization/?group=client",
        f"billing/invoices/{invoice.uuid}/",
        f"billing/invoices/{draft.uuid}/",
        f"billing/invoices/{credit_note.uuid}/",
        f"billing/invoices/lines/{line.uuid}/",
        f"billing/invoices/new/?client={jane.uuid}",
        "billing/invoices/new/?q=jane",
        f"billing/time/?client={jane.uuid}&engagement={engagement.uuid}",
        f"billing/time/{entry.uuid}/",
        f"billing/time/{unbilled.uuid}/",
        f"billing/engagements/{engagement.uuid}/time/",
        f"billing/tasks/{task.uuid}/time/",
        "billing/invoices/?status=unpaid",
        ledger,
        f"{ledger}import/",
        f"reports/imports/{upload.uuid}/",
        *(
            f"{ledger}{page}/?period=quarter"
            for page in (
                "profit-and-loss",
                "balance-sheet",
                "cash-flow",
                "trial-balance",
            )
        ),
        f"{ledger}balance-sheet/?end=2020-01-31",
        "reports/?q=jane",
    ]


def _ledger(client, by):
    """Fourteen months of the demo business's trial balances for `client`, through
    the CSV import; a last upload left in its preview with a row error. Returns
    the ledger page's path and that upload."""
    from reports.csv_import import (
        trial_balance_import_apply,
        trial_balance_import_create,
    )
    from reports.demo import demo_trial_balances, trial_balance_csv

    with tenant_context(client.organization):
        for day, rows in demo_trial_balances(
            last=timezone.localdate().replace(day=1) - timedelta(days=1), months=14
        ):
            upload = trial_balance_import_create(
                client=client,
                user=by,
                period_end=day,
                filename=f"tb-{day:%Y-%m}.csv",
                text=trial_balance_csv(rows),
            )
            trial_balance_import_apply(trial_balance_import=upload, user=by)
        upload = trial_balance_import_create(
            client=client,
            user=by,
            period_end=day,
            filename="tb-bad.csv",
            text=trial_balance_csv(rows) + "9999,Suspense,Shipping,,12.00,\r\n",
        )
    return f"reports/clients/{client.uuid}/", upload


def _invoices(client, engagement, by):
    """An issued invoice partly paid, refunded in part and credited, with a
    written-down time line; a draft with time on it and more time unbilled."""
    for minutes in (90, 45, 30):
        write_time_entry(client, by, minutes=minutes, engagement=engagement)
    invoice = make_draft_invoice(client, by)
    with tenant_context(client.organization):
        (line,) = invoice_add_time(
            invoice=invoice, by=by, entries=[client.time_entries.order_by("pk")[0]]
        )
        invoice_line_update(
            line=line, by=by, amount=Decimal("200"), adjustment_reason="First year"
        )
        invoice_issue(invoice=invoice, by=by)
        payment = payment_record(
            invoice=invoice, by=by, amount=Decimal("300"), method="check"
        )
        payment_refund(payment=payment, by=by, amount=Decimal("20"), reason="Fee")
        note = credit_note_create(
            invoice=invoice, by=by, amount=Decimal("50"), reason="Goodwill"
        )
    draft = make_draft_invoice(client, by, engagement=engagement)
    with tenant_context(client.organization):
        invoice_add_time(
            invoice=draft, by=by, entries=[client.time_entries.order_by("pk")[1]]
        )
    return invoice, draft, note


def walk(
    tab, slug: str, paths: list[str], with_rows: frozenset[str] = frozenset()
) -> dict[str, list[str]]:
    """Each page's faults (sideways scroll, axe violations), by path; a page of
    `with_rows` that shows no table rows is a fault too (its rows went unchecked)."""
    faults = {}
    for path in paths:
        response = tab.goto(f"/o/{slug}/{path}")
        if response.status != 200:
            faults[path] = [f"status {response.status}"]
            continue
        tab.wait_for_function(HTMX_QUIET)
        if path in with_rows and tab.locator("table tbody tr").count() == 0:
            faults[path] = ["no rows to check"]
            continue
        if found := fit_and_accessibility_faults(tab):
            faults[path] = found
    return faults


@pytest.mark.parametrize("width", WIDTHS)
def test_every_staff_page_meets_wcag_aa(width, tab, small_firm, cast):
    tab.set_viewport_size(WIDTHS[width])
    tab.errors.clear()
    tab.context.clear_cookies()
    sign_in(tab, cast.alice.email, PASSWORD, lands_on="**/o/alpha/")
    faults = walk(tab, "alpha", small_firm, LISTS_WITH_ROWS)

    tab.context.clear_cookies()
    sign_in(tab, cast.oscar.email, PASSWORD, lands_on="**/o/beta/")
    faults |= {f"(empty) {p}": f for p, f in walk(tab, "beta", EMPTY_PAGES).items()}

    assert faults == {}, "\n".join(f"{p}: {f}" for p, f in faults.items())
    assert tab.errors == []


def test_the_walk_includes_every_page_of_the_navigation():
    walked = {f"/o/alpha/{path}" for path, _ in PAGES} | {
        f"/o/alpha/{path}" for path in EMPTY_PAGES
    }
    in_nav = {
        reverse(entry.url_name, kwargs={"org_slug": "alpha"})
        for entry in declared_nav()
    }

    assert in_nav - walked == set()
