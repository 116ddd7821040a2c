"""Reminder emails (documents.reminders) carry each contact's own request link,
made by the portal through documents.links, in the firm's look."""

from __future__ import annotations

import re
from datetime import timedelta

from django.core import mail
from django.test import Client as HttpClient
from django.utils import timezone

from advisoros.tenancy.clock import firm_today
from advisoros.tenancy.db import platform_bypass, tenant_context
from advisoros.tenancy.models import Organization
from documents.links import request_link_for
from documents.models import DocumentRequestItem
from documents.services.requests import document_request_cancel
from documents.tasks_scheduled import document_request_reminders_send
from portal.models import RequestLink
from portal.services.links import request_link_check
from tests.portal.builders import make_contact

LINK = re.compile(r"http://[^/\s\"]+/p/alpha/r/([A-Za-z0-9_-]{20,64})/")
UPLOAD = "Upload them here (no password needed, works on your phone):"


def _overdue(doc_request) -> None:
    yesterday = firm_today(doc_request.organization) - timedelta(days=1)
    with tenant_context(doc_request.organization):
        DocumentRequestItem.objects.filter(request=doc_request).update(
            due_date=yesterday
        )


def _check(org, token):
    with tenant_context(org):
        return request_link_check(token, organization=org)


def _to(address: str):
    return next(e for e in mail.outbox if e.to == [address])


def test_a_reminder_carries_a_working_link_of_the_contacts_own(
    cast, pcast, run_schedule
):
    _overdue(pcast.jane_request)

    assert run_schedule(document_request_reminders_send) == 1

    [email] = mail.outbox
    assert email.to == ["joan@client.test"]
    assert UPLOAD in email.body
    token = LINK.search(email.body.split(UPLOAD)[1])[1]
    check = _check(cast.alpha, token)
    assert check.ok
    assert check.link.contact == pcast.joan
    assert check.link.request == pcast.jane_request
    assert check.link.created_by is None  # the schedule made it
    # The person opens it, and lands on the request.
    browser = HttpClient()
    assert browser.post(f"/p/alpha/r/{token}/").url == (
        f"/p/alpha/requests/{pcast.jane_request.uuid}/"
    )


def test_each_contact_gets_a_link_of_their_own(cast, pcast, run_schedule):
    make_contact(pcast.jane, "Jim", "Doe", "jim@client.test")  # no grant: a link too
    _overdue(pcast.jane_request)

    assert run_schedule(document_request_reminders_send) == 2

    tokens = {
        address: LINK.search(_to(address).body)[1]
        for address in ("joan@client.test", "jim@client.test")
    }
    assert len(set(tokens.values())) == 2
    for address, token in tokens.items():
        assert _check(cast.alpha, token).link.contact.email == address


def test_a_contact_whose_access_was_revoked_is_reminded_without_a_link(
    cast, pcast, run_schedule
):
    with tenant_context(cast.alpha):
        pcast.joan_grant.revoked_at = timezone.now()
        pcast.joan_grant.save()
    _overdue(pcast.jane_request)

    assert run_schedule(document_request_reminders_send) == 1

    [email] = mail.outbox
    assert "/r/" not in email.body and UPLOAD not in email.body
    assert "Please send them to us, or reply to this email" in email.body
    html, _ = email.alternatives[0]
    assert "Upload your documents" not in html  # no button without a link
    with tenant_context(cast.alpha):
        assert not RequestLink.objects.exists()


def test_the_reminder_is_in_the_firms_look(cast, pcast, run_schedule):
    with platform_bypass():
        Organization.objects.filter(pk=cast.alpha.pk).update(brand_color="#0f766e")
    _overdue(pcast.jane_request)

    run_schedule(document_request_reminders_send)

    [email] = mail.outbox
    html, kind = email.alternatives[0]
    token = LINK.search(email.body)[1]
    assert kind == "text/html"
    assert "background:#0f766e" in html and "Alpha Accounting" in html
    assert f'href="http://127.0.0.1:8000/p/alpha/r/{token}/"' in html


def test_no_link_is_made_for_a_closed_request(cast, pcast):
    with tenant_context(cast.alpha):
        cancelled = document_request_cancel(request=pcast.jane_request)
        assert request_link_for(request=cancelled, contact=pcast.joan) == ""
        assert not RequestLink.objects.exists()
