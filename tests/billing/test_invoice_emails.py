"""The job that sends an issued invoice: its PDF attached, to the client's
billing contacts, once (or again on Resend), stamped with when and to whom."""

from __future__ import annotations

from io import BytesIO

from django.core import mail
from pypdf import PdfReader

from advisoros.tenancy.db import tenant_context
from billing.models import Invoice
from billing.services.invoices import invoice_void
from billing.tasks import invoice_send_job
from tests.factories import make_billing_contact


def _send(invoice, **kwargs) -> str:
    with tenant_context(invoice.organization):
        return invoice_send_job(
            organization=invoice.organization, invoice_id=invoice.pk, **kwargs
        )


def _fresh(invoice) -> Invoice:
    with tenant_context(invoice.organization):
        return Invoice.objects.get(pk=invoice.pk)


def test_it_emails_the_billing_contacts_with_the_pdf(cast, jane, issued, media_root):
    make_billing_contact(jane, "ap@jane.test")
    make_billing_contact(jane, "jane@jane.test", role="primary")

    assert _send(issued) == "sent to ap@jane.test"

    (message,) = mail.outbox
    assert message.to == ["ap@jane.test"]  # billing contacts before primary ones
    assert "INV-00001" in message.body and "500.00 USD" in message.body
    ((name, content, kind),) = message.attachments
    assert (name, kind) == ("INV-00001.pdf", "application/pdf")
    text = PdfReader(BytesIO(content)).pages[0].extract_text()
    assert "INV-00001" in text
    sent = _fresh(issued)
    assert sent.sent_to == "ap@jane.test" and sent.sent_at is not None
    assert (media_root / sent.pdf.name).read_bytes() == content


def test_it_sends_once_however_often_it_runs(cast, jane, issued):
    make_billing_contact(jane, "ap@jane.test")

    _send(issued)
    assert _send(issued) == "not sent"

    assert len(mail.outbox) == 1


def test_resend_sends_again_and_moves_the_stamp(cast, jane, issued):
    make_billing_contact(jane, "ap@jane.test")
    _send(issued)
    first = _fresh(issued).sent_at

    _send(issued, resend=True)

    assert len(mail.outbox) == 2
    assert _fresh(issued).sent_at > first


def test_a_client_without_an_address_gets_nothing_and_no_stamp(cast, issued):
    assert _send(issued) == "not sent"

    assert mail.outbox == []
    assert _fresh(issued).sent_at is None


def test_the_clients_own_address_serves_when_it_has_no_contacts(cast, jane, issued):
    with tenant_context(cast.alpha):
        jane.email = "jane@home.test"
        jane.save(update_fields=["email"])

    _send(issued)

    assert mail.outbox[0].to == ["jane@home.test"]


def test_a_void_invoice_and_a_draft_are_never_sent(cast, jane, issued, draft):
    make_billing_contact(jane, "ap@jane.test")
    with tenant_context(cast.alpha):
        invoice_void(invoice=issued, by=cast.sam, reason="Wrong client")

    assert _send(issued, resend=True) == "not sent"
    assert _send(draft, resend=True) == "not sent"
    assert mail.outbox == []
