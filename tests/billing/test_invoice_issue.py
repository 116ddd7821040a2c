"""Issuing from the draft's page: the number, the email queued with its PDF, a
double click told "already issued" (never a 500), an empty draft refused."""

from __future__ import annotations

from django.core import mail

from advisoros.tenancy.db import tenant_context
from billing.models import Invoice
from billing.services.invoices import invoice_line_remove
from tests.factories import make_billing_contact, make_draft_invoice


def _url(invoice) -> str:
    return f"/o/alpha/billing/invoices/{invoice.uuid}/issue/"


def _fresh(invoice) -> Invoice:
    with tenant_context(invoice.organization):
        return Invoice.objects.get(pk=invoice.pk)


def test_it_numbers_the_invoice_and_lands_on_it(cast, login_as, jane, draft):
    make_billing_contact(jane, "ap@jane.test")

    response = login_as(cast.sam).post(_url(draft), follow=True)

    issued = _fresh(draft)
    assert (issued.number, issued.status) == (1, "sent")
    assert response.redirect_chain[-1][0] == f"/o/alpha/billing/invoices/{draft.uuid}/"
    html = response.content.decode()
    assert 'data-testid="invoice-number">INV-00001<' in html
    assert "INV-00001 issued; it is being emailed to ap@jane.test." in html


def test_issuing_emails_the_pdf_once_the_issue_commits(
    cast, login_as, jane, draft, django_capture_on_commit_callbacks, media_root
):
    make_billing_contact(jane, "ap@jane.test")

    with django_capture_on_commit_callbacks(execute=True):
        login_as(cast.sam).post(_url(draft))

    (message,) = mail.outbox
    assert message.to == ["ap@jane.test"]
    assert message.subject == "Invoice INV-00001 from Alpha Accounting"
    ((name, content, kind),) = message.attachments
    assert (name, kind) == ("INV-00001.pdf", "application/pdf")
    assert content.startswith(b"%PDF")
    issued = _fresh(draft)
    assert issued.sent_at is not None and issued.sent_to == "ap@jane.test"
    assert (media_root / issued.pdf.name).read_bytes() == content


def test_a_client_without_an_address_is_warned_about(cast, login_as, draft):
    response = login_as(cast.sam).post(_url(draft), follow=True)

    assert "the client has no email address for invoices" in response.content.decode()


def test_a_double_click_is_told_already_issued(cast, login_as, draft):
    web = login_as(cast.sam)
    web.post(_url(draft))

    response = web.post(_url(draft), follow=True)

    assert response.status_code == 200
    assert 'class="flash flash-info">INV-00001 is already issued.<' in (
        response.content.decode()
    )
    assert _fresh(draft).number == 1
    with tenant_context(cast.alpha):
        assert Invoice.objects.filter(number__isnull=False).count() == 1


def test_numbers_follow_each_other(cast, login_as, jane, draft):
    second = make_draft_invoice(jane, cast.sam)
    web = login_as(cast.sam)

    web.post(_url(draft))
    web.post(_url(second))

    assert (_fresh(draft).number, _fresh(second).number) == (1, 2)


def test_an_empty_draft_is_refused_with_a_message(cast, login_as, draft):
    with tenant_context(cast.alpha):
        invoice_line_remove(line=draft.lines.get(), by=cast.sam)

    response = login_as(cast.sam).post(_url(draft), follow=True)

    assert "An invoice needs at least one line" in response.content.decode()
    assert _fresh(draft).number is None


def test_read_only_gets_403_and_get_405(cast, login_as, draft):
    assert login_as(cast.rita).post(_url(draft)).status_code == 403
    assert login_as(cast.sam).get(_url(draft)).status_code == 405
    assert _fresh(draft).number is None
