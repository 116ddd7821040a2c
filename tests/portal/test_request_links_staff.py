"""Request links on the staff request page: the portal's panel lists the client's
contacts with an email, emails a link, shows one to copy (once), lists the
request's links with their state and use, and revokes them all."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client as HttpClient
from django.utils import timezone
from playwright.sync_api import expect

from advisoros.audit.models import AuditAction, AuditEvent
from advisoros.tenancy.db import platform_bypass, tenant_context
from clients.models import ClientContact, Contact
from documents.services.requests import document_request_cancel
from portal.models import RequestLink
from portal.services.links import request_link_check
from portal.tokens import token_hash
from tests.browser.conftest import (  # noqa: F401 (fixtures)
    browser,
    console_errors,
    sign_in,
)
from tests.conftest import PASSWORD
from tests.portal.builders import make_contact, make_link

LINK = re.compile(r"http://[^/\s\"]+/p/alpha/r/([A-Za-z0-9_-]{20,64})/")


def _page(doc_request) -> str:
    return f"/o/{doc_request.organization.slug}/documents/requests/{doc_request.uuid}/"


def _links_url(doc_request, action: str, slug: str = "alpha") -> str:
    return f"/o/{slug}/portal/requests/{doc_request.uuid}/links/{action}/"


def _staff(user) -> HttpClient:
    http = HttpClient()
    http.force_login(user)
    return http


def _check(org, token):
    with tenant_context(org):
        return request_link_check(token, organization=org)


def _links(doc_request) -> list[RequestLink]:
    with tenant_context(doc_request.organization):
        return list(
            RequestLink.objects.filter(request=doc_request).order_by("created_at")
        )


def _panel(response) -> str:
    return response.content.decode().split('data-testid="request-links"')[1]


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_the_panel_lists_the_clients_contacts_with_an_email(cast, pcast):
    make_contact(pcast.jane, "Nora", "Doe", "")  # no address: not listed
    jim = make_contact(pcast.jane, "Jim", "Doe", "jim@client.test")
    with tenant_context(cast.alpha):  # linked twice: listed once
        ClientContact.objects.create(
            organization=cast.alpha, client=pcast.jane, contact=jim, role="billing"
        )

    panel = _panel(_staff(cast.sam).get(_page(pcast.jane_request)))

    assert "Joan Doe" in panel and "joan@client.test" in panel
    assert panel.count("jim@client.test") == 1
    assert "Nora" not in panel and "Carl" not in panel
    assert panel.count(">Email link<") == 2 and panel.count(">Copy link<") == 2


def test_a_contact_whose_access_was_revoked_gets_no_buttons(cast, pcast):
    with tenant_context(cast.alpha):
        pcast.joan_grant.revoked_at = timezone.now()
        pcast.joan_grant.save()

    panel = _panel(_staff(cast.sam).get(_page(pcast.jane_request)))

    assert "Portal access revoked" in panel
    assert ">Email link<" not in panel


def test_email_link_sends_the_firms_email_with_a_working_link(cast, pcast):
    response = _staff(cast.sam).post(
        _links_url(pcast.jane_request, "email"),
        {"contact": str(pcast.joan.uuid)},
        follow=True,
    )

    assert response.redirect_chain[0][0] == f"{_page(pcast.jane_request)}#portal-links"
    assert "emailed to joan@client.test" in _messages(response)[0]
    [email] = mail.outbox
    assert email.to == ["joan@client.test"] and email.reply_to == ["sam@alpha.test"]
    assert email.subject == "Alpha Accounting: documents needed for Jane Doe"
    assert "- W-2" in email.body and "- 1099-INT" in email.body
    assert "Upload them here (no password needed, works on your phone):" in email.body
    token = LINK.search(email.body)[1]
    html, _ = email.alternatives[0]
    assert f"/p/alpha/r/{token}/" in html and "Upload your documents" in html
    check = _check(cast.alpha, token)
    assert check.ok and check.link.contact == pcast.joan
    [link] = _links(pcast.jane_request)
    assert link.created_by == cast.sam and link.token_hash == token_hash(token)
    with platform_bypass():
        assert AuditEvent.objects.filter(
            organization=cast.alpha, action=AuditAction.PORTAL_LINK_CREATED
        ).exists()
    # The person opens it: Continue first, then the request.
    visitor = HttpClient()
    assert visitor.get(f"/p/alpha/r/{token}/").status_code == 200
    assert visitor.post(f"/p/alpha/r/{token}/").url == (
        f"/p/alpha/requests/{pcast.jane_request.uuid}/"
    )


def test_copy_link_shows_the_whole_url_once_and_it_works(cast, pcast):
    response = _staff(cast.sam).post(
        _links_url(pcast.jane_request, "copy"), {"contact": str(pcast.joan.uuid)}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    token = LINK.search(html)[1]
    field = re.search(r'<input type="text" id="link-url-[^"]+" value="([^"]+)"', html)
    assert field[1] == f"http://127.0.0.1:8000/p/alpha/r/{token}/"
    assert f'<label for="link-url-{pcast.joan.uuid}">' in html
    assert "readonly" in field.string[field.end() : field.end() + 40]
    assert _check(cast.alpha, token).ok
    # The page shows it; the firm keeps only its hash.
    [link] = _links(pcast.jane_request)
    assert link.token_hash == token_hash(token)
    assert token not in _staff(cast.sam).get(_page(pcast.jane_request)).content.decode()


def test_copy_link_from_the_panel_answers_htmx_with_the_fragment(cast, pcast):
    response = _staff(cast.sam).post(
        _links_url(pcast.jane_request, "copy"),
        {"contact": str(pcast.joan.uuid)},
        headers={"HX-Request": "true"},
    )

    html = response.content.decode()
    assert "<html" not in html and 'data-testid="link-copy"' in html
    assert _check(cast.alpha, LINK.search(html)[1]).ok


def test_the_table_shows_each_links_state_and_use(cast, pcast):
    _, used = make_link(pcast.jane_request, pcast.joan)
    HttpClient().post(f"/p/alpha/r/{used}/")
    expired, _ = make_link(pcast.jane_request, pcast.joan)
    revoked, _ = make_link(pcast.jane_request, pcast.joan)
    with tenant_context(cast.alpha):
        RequestLink.objects.filter(pk=expired.pk).update(
            expires_at=timezone.now() - timedelta(minutes=1)
        )
        RequestLink.objects.filter(pk=revoked.pk).update(revoked_at=timezone.now())

    response = _staff(cast.rita).get(_page(pcast.jane_request))

    rows = _panel(response).split('data-testid="request-link-rows"')[1]
    states = re.findall(r'data-testid="link-state">(\w+)<', rows)
    assert states == ["Revoked", "Expired", "Active"]  # newest first
    assert "<td>1</td>" in rows  # the used one
    # Read-only: the links, no buttons.
    assert "Email link" not in _panel(response) and "Revoke all" not in rows


def test_revoke_all_withdraws_every_open_link_of_the_request(cast, pcast):
    tokens = [make_link(pcast.jane_request, pcast.joan)[1] for _ in range(2)]
    other = make_link(pcast.acme_request, pcast.carl)[1]

    response = _staff(cast.sam).post(
        _links_url(pcast.jane_request, "revoke"), follow=True
    )

    assert "2 links to this request withdrawn." in _messages(response)
    assert [_check(cast.alpha, t).reason for t in tokens] == ["revoked", "revoked"]
    assert _check(cast.alpha, other).ok
    with platform_bypass():
        event = AuditEvent.objects.get(
            organization=cast.alpha, action=AuditAction.PORTAL_LINK_REVOKED
        )
    assert event.actor == cast.sam and event.detail["count"] == 2
    assert "Revoke all links" not in _panel(response)


def test_read_only_members_cannot_make_or_revoke_links(cast, pcast):
    http = _staff(cast.rita)
    data = {"contact": str(pcast.joan.uuid)}

    for action in ("email", "copy", "revoke"):
        assert http.post(_links_url(pcast.jane_request, action), data).status_code == (
            403
        )

    assert _links(pcast.jane_request) == [] and mail.outbox == []


def test_another_firms_request_is_not_found(cast, pcast):
    http = _staff(cast.oscar)
    data = {"contact": str(pcast.joan.uuid)}

    for action in ("email", "copy", "revoke"):
        url = _links_url(pcast.jane_request, action, slug="beta")
        assert http.post(url, data).status_code == 404

    assert _links(pcast.jane_request) == [] and mail.outbox == []


def test_a_contact_of_another_client_gets_no_link(cast, pcast):
    http = _staff(cast.sam)

    response = http.post(
        _links_url(pcast.jane_request, "email"),
        {"contact": str(pcast.carl.uuid)},
        follow=True,
    )
    forged = http.post(
        _links_url(pcast.jane_request, "copy"), {"contact": "not-a-uuid"}, follow=True
    )

    assert "Choose a contact of this client." in _messages(response)
    assert "Choose a contact of this client." in _messages(forged)
    assert _links(pcast.jane_request) == [] and mail.outbox == []


def test_a_closed_request_gets_no_new_links(cast, pcast):
    with tenant_context(cast.alpha):
        document_request_cancel(request=pcast.jane_request)
    http = _staff(cast.sam)

    panel = _panel(http.get(_page(pcast.jane_request)))
    response = http.post(
        _links_url(pcast.jane_request, "email"),
        {"contact": str(pcast.joan.uuid)},
        follow=True,
    )

    assert "The request is cancelled" in panel and "Email link" not in panel
    assert "This request is closed" in _messages(response)[0]
    assert mail.outbox == []


def test_the_request_page_costs_the_same_queries_for_few_or_many_links(
    cast, pcast, django_assert_num_queries
):
    http = _staff(cast.sam)
    http.get(_page(pcast.jane_request))  # settles the session's first-visit writes
    for step, more in enumerate((1, 6)):
        for n in range(more):
            contact = make_contact(
                pcast.jane, "Kin", f"{step}-{n}", f"k{step}{n}@x.test"
            )
            make_link(pcast.jane_request, contact)
        # 1 session, 2 user, 3 the firm, entered in its RLS context, 4 the member's
        # firms, 5 the request with its client, engagement and author, 6 the items,
        # 7 their documents, 8 the client's documents to attach, 9 the client's
        # contacts with an email, 10 the request's links, 11 reset the RLS context.
        with django_assert_num_queries(11):
            response = http.get(_page(pcast.jane_request))
        assert response.status_code == 200
    panel = _panel(response)
    assert panel.count('data-testid="link-state"') == 7
    with tenant_context(cast.alpha):
        assert Contact.objects.filter(client_contacts__client=pcast.jane).count() == 8


def test_the_table_shows_the_newest_links_and_says_when_older_exist(cast, pcast):
    for _ in range(21):
        make_link(pcast.jane_request, pcast.joan)

    panel = _panel(_staff(cast.sam).get(_page(pcast.jane_request)))

    assert panel.count('data-testid="link-state"') == 20
    assert "Older links are not shown." in panel


# On a phone (390 px), in Chromium ----------------------------------------------------


def _fits(page) -> None:
    scroll, inner = page.evaluate(
        "() => [document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert scroll <= inner, f"sideways scroll on {page.url}: {scroll} > {inner}"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_on_a_phone_the_panel_and_the_access_page_fit_and_copy_works(
    cast,
    pcast,
    browser,  # noqa: F811 (the fixture imported above)
    live_server,
    console_errors,  # noqa: F811
):
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 390, "height": 844}
    )
    phone = context.new_page()
    phone.set_default_timeout(15_000)
    phone.on("console", lambda m: m.type == "error" and console_errors.append(m.text))
    phone.on("pageerror", lambda exc: console_errors.append(str(exc)))
    make_link(pcast.jane_request, pcast.joan)
    sign_in(phone, "mia@alpha.test", PASSWORD)

    phone.goto(_page(pcast.jane_request))
    panel = phone.get_by_test_id("request-links")
    expect(panel.get_by_test_id("link-state")).to_have_text("Active")
    _fits(phone)
    panel.get_by_role("button", name="Copy link for Joan Doe").click()
    field = panel.get_by_label("Link for Joan Doe, valid 7 days")
    expect(field).to_have_value(re.compile(r"/p/alpha/r/[\w-]{20,}/$"))
    _fits(phone)
    token = LINK.search(field.input_value())[1]
    assert _check(cast.alpha, token).ok

    phone.goto(f"/o/alpha/portal/contacts/{pcast.joan.uuid}/")
    expect(phone.get_by_role("heading", name="Jane Doe")).to_be_visible()
    expect(phone.get_by_label("Answer document requests")).to_be_checked()
    _fits(phone)
    context.close()
    assert console_errors == []


def test_a_closed_requests_unexpired_links_say_so(cast, pcast):
    make_link(pcast.jane_request, pcast.joan)
    with tenant_context(cast.alpha):
        document_request_cancel(request=pcast.jane_request)
    panel = _panel(_staff(cast.sam).get(_page(pcast.jane_request)))
    assert "Request closed" in panel and ">Active<" not in panel
