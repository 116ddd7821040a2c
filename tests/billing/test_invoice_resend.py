"""Emailing an invoice again from its page, with its PDF; never a void one."""

from __future__ import annotations

from django.core import mail

from advisoros.tenancy.db import tenant_context
from billing.models import Invoice
from billing.services.invoices import invoice_void
from tests.factories import make_billing_contact


def _url(invoice) -> str:
    return f"/o/alpha/billing/invoices/{invoice.uuid}/resend/"


def test_it_emails_the_invoice_again(
    cast, login_as, jane, issued, django_capture_on_commit_callbacks
):
    make_billing_contact(jane, "ap@jane.test")
    web = login_as(cast.sam)
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            response = web.post(_url(issued), follow=True)

    assert [m.to for m in mail.outbox] == [["ap@jane.test"], ["ap@jane.test"]]
    assert all(m.attachments[0][0] == "INV-00001.pdf" for m in mail.outbox)
    assert "INV-00001 is being emailed again." in response.content.decode()
    with tenant_context(cast.alpha):
        assert Invoice.objects.get(pk=issued.pk).sent_at is not None


def test_a_void_invoice_is_not_emailed(
    cast, login_as, jane, issued, django_capture_on_commit_callbacks
):
    make_billing_contact(jane, "ap@jane.test")
    with tenant_context(cast.alpha):
        invoice_void(invoice=issued, by=cast.sam, reason="Wrong client")

    with django_capture_on_commit_callbacks(execute=True):
        response = login_as(cast.sam).post(_url(issued), follow=True)

    assert mail.outbox == []
    assert "Only an issued invoice that is not void is emailed." in (
        response.content.decode()
    )


def test_read_only_gets_403(cast, login_as, issued):
    assert login_as(cast.rita).post(_url(issued)).status_code == 403
