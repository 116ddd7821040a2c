"""Invoice numbers under concurrency: several real database connections issue
invoices at the same moment, and the numbers come out consecutive, with no gap
and no duplicate, including when one of the issuing transactions rolls back."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from advisoros.tenancy.db import tenant_context
from billing.models import Invoice
from billing.services.invoices import invoice_issue
from tests.factories import make_draft_invoice, make_issued_invoice

WRITERS = 6


class Rollback(Exception):
    pass


@pytest.mark.django_db(transaction=True)
def test_concurrent_issues_get_consecutive_numbers_with_no_gap(cast, jane):
    make_issued_invoice(jane, cast.sam)  # number 1, and the counter row exists
    drafts = [make_draft_invoice(jane, cast.sam) for _ in range(WRITERS)]
    barrier = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def issue(invoice, roll_back: bool):
        try:
            barrier.wait(10)
            with tenant_context(cast.alpha), transaction.atomic():
                invoice_issue(invoice=invoice, by=cast.sam)
                if roll_back:
                    raise Rollback  # the number taken here must be given back
        except Rollback:
            pass
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    # Every other writer rolls back after taking its number.
    threads = [
        threading.Thread(target=issue, args=(draft, i % 3 == 0))
        for i, draft in enumerate(drafts)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert not errors
    with tenant_context(cast.alpha):
        numbers = sorted(
            Invoice.objects.filter(number__isnull=False).values_list(
                "number", flat=True
            )
        )
        drafts_left = Invoice.objects.filter(status="draft").count()
    rolled_back = sum(1 for i in range(WRITERS) if i % 3 == 0)
    assert drafts_left == rolled_back
    assert numbers == list(range(1, WRITERS - rolled_back + 2))


@pytest.mark.django_db(transaction=True)
def test_a_double_clicked_issue_numbers_the_invoice_once(cast, jane):
    draft = make_draft_invoice(jane, cast.sam)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def click():
        try:
            barrier.wait(10)
            with tenant_context(cast.alpha):
                invoice_issue(invoice=draft, by=cast.sam)
            outcomes.append("issued")
        except Exception as exc:
            outcomes.append(str(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sorted(outcomes) == ["['INV-00001 is already issued.']", "issued"]
    with tenant_context(cast.alpha):
        assert list(Invoice.objects.values_list("number", flat=True)) == [1]
