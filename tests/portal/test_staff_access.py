"""The contact's portal access page: grants per client, revocation, invitations,
the portal account and the access log; and the panel on the contact page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client as HttpClient
from django.utils import timezone

from advisoros.audit.models import AuditAction, AuditEvent
from advisoros.tenancy.db import platform_bypass, tenant_context
from clients.models import ClientContact, Contact
from portal.models import (
    Activity,
    PortalActivity,
    PortalGrant,
    PortalInvitation,
)
from portal.services.links import request_link_check
from portal.tokens import token_hash
from tests.factories import PASSWORD, make_client
from tests.portal.builders import make_contact, make_grant, make_link

INVITATION = re.compile(r"http://[^/\s]+/p/alpha/welcome/([A-Za-z0-9_-]{20,64})/")


def _page(contact) -> str:
    return f"/o/alpha/portal/contacts/{contact.uuid}/"


def _grant_url(contact, client) -> str:
    return f"{_page(contact)}clients/{client.uuid}/grant/"


def _revoke_url(contact, client) -> str:
    return f"{_page(contact)}clients/{client.uuid}/revoke/"


def _invite_url(contact) -> str:
    return f"{_page(contact)}invite/"


def _staff(user) -> HttpClient:
    """A staff browser of its own (the `client` fixture may be Joan's portal)."""
    http = HttpClient()
    http.force_login(user)
    return http


def _grant(contact, client) -> PortalGrant | None:
    with tenant_context(client.organization):
        return PortalGrant.objects.filter(contact=contact, client=client).first()


def _events(org, action) -> list[AuditEvent]:
    with platform_bypass():
        return list(AuditEvent.objects.filter(organization=org, action=action))


def _fresh(row):
    with tenant_context(row.organization):
        row.refresh_from_db()
    return row


def _check(org, token):
    with tenant_context(org):
        return request_link_check(token, organization=org)


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def jim(pcast):
    """Jane's second contact: an email, no portal access yet."""
    return make_contact(pcast.jane, "Jim", "Doe", "jim@client.test")


# Granting ----------------------------------------------------------------------------


def test_a_manager_gives_access_with_the_ticked_capabilities(cast, pcast, jim):
    http = _staff(cast.mia)

    response = http.post(
        _grant_url(jim, pcast.jane),
        {"can_upload": "on", "can_message": "on"},
        follow=True,
    )

    grant = _grant(jim, pcast.jane)
    assert grant.is_active and grant.granted_by == cast.mia
    assert (grant.can_upload, grant.can_message) == (True, True)
    assert not grant.can_view_documents and not grant.can_sign and not grant.can_pay
    assert response.redirect_chain[-1][0] == _page(jim)
    assert "Jim Doe may use the portal for Jane Doe" in _messages(response)[0]
    [event] = _events(cast.alpha, AuditAction.PORTAL_ACCESS_GRANTED)
    assert event.actor == cast.mia
    assert event.detail["capabilities"]["can_upload"] is True
    assert event.detail["capabilities"]["can_sign"] is False


def test_saving_again_changes_the_capabilities_of_the_same_grant(cast, pcast):
    http = _staff(cast.mia)

    http.post(_grant_url(pcast.joan, pcast.jane), {"can_view_documents": "on"})

    grant = _grant(pcast.joan, pcast.jane)
    assert grant.pk == pcast.joan_grant.pk
    assert grant.can_view_documents and not grant.can_upload and not grant.can_sign


def test_a_grant_with_nothing_ticked_is_refused(cast, pcast, jim):
    response = _staff(cast.mia).post(_grant_url(jim, pcast.jane), {}, follow=True)

    assert _grant(jim, pcast.jane) is None
    assert "Tick at least one thing" in _messages(response)[0]


def test_access_is_only_for_a_contact_of_the_client_with_an_email(cast, pcast):
    http = _staff(cast.mia)
    no_email = make_contact(pcast.jane, "Nora", "Doe", "")

    not_contact = http.post(
        _grant_url(pcast.carl, pcast.jane), {"can_upload": "on"}, follow=True
    )
    without_email = http.post(
        _grant_url(no_email, pcast.jane), {"can_upload": "on"}, follow=True
    )

    assert _grant(pcast.carl, pcast.jane) is None
    assert _grant(no_email, pcast.jane) is None
    assert "Carl Acme is not a contact of Jane Doe" in _messages(not_contact)[0]
    assert "has no email address" in _messages(without_email)[0]


@pytest.mark.parametrize("member", ["sam", "rita"])
def test_staff_and_read_only_members_cannot_change_access(cast, pcast, jim, member):
    http = _staff(getattr(cast, member))

    assert (
        http.post(_grant_url(jim, pcast.jane), {"can_upload": "on"}).status_code == 403
    )
    assert http.post(_revoke_url(pcast.joan, pcast.jane)).status_code == 403
    assert http.post(_invite_url(pcast.joan)).status_code == 403

    assert _grant(jim, pcast.jane) is None
    assert _grant(pcast.joan, pcast.jane).is_active
    assert mail.outbox == []


def test_a_read_only_member_sees_the_access_without_the_buttons(cast, pcast):
    response = _staff(cast.rita).get(_page(pcast.joan))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Jane Doe" in html and "Has access" in html
    assert "Revoke access" not in html and 'data-testid="invite"' not in html
    assert "Managers, admins and owners change portal access." in html
    assert '<fieldset class="access-caps" disabled>' in html


def test_another_firms_owner_finds_no_alpha_contact(cast, pcast):
    http = _staff(cast.oscar)
    beta = f"/o/beta/portal/contacts/{pcast.joan.uuid}/"

    assert http.get(beta).status_code == 404
    assert http.post(f"{beta}clients/{pcast.jane.uuid}/revoke/").status_code == 404
    assert http.post(f"{beta}invite/").status_code == 404
    assert http.get(_page(pcast.joan)).status_code == 404  # not a member of Alpha
    assert _grant(pcast.joan, pcast.jane).is_active


def test_a_beta_client_cannot_be_granted_to_an_alpha_contact(cast, pcast):
    http = _staff(cast.mia)

    response = http.post(
        _grant_url(pcast.joan, pcast.bruno_client), {"can_upload": "on"}
    )

    assert response.status_code == 404
    with platform_bypass():
        assert (
            not PortalGrant.objects.filter(contact=pcast.joan)
            .exclude(client=pcast.jane)
            .exists()
        )


# Revoking ----------------------------------------------------------------------------


def test_revoking_ends_a_signed_in_contacts_access_on_their_next_click(
    cast, pcast, joan_portal
):
    request_page = f"/p/alpha/requests/{pcast.jane_request.uuid}/"
    _, token = make_link(pcast.jane_request, pcast.joan)
    # Signed in: the sign-in address sends her on to her home page.
    assert joan_portal.get("/p/alpha/").url == "/p/alpha/home/"

    response = _staff(cast.mia).post(_revoke_url(pcast.joan, pcast.jane), follow=True)

    grant = _grant(pcast.joan, pcast.jane)
    assert grant.revoked_at is not None and grant.revoked_by == cast.mia
    assert "no longer has portal access to Jane Doe" in _messages(response)[0]
    # Her next click: the same session no longer opens Jane's request.
    assert joan_portal.get(request_page).url == "/p/alpha/"  # sign in
    assert joan_portal.get("/p/alpha/home/").url == "/p/alpha/"
    # Her open link for Jane stopped working too.
    assert _check(cast.alpha, token).reason == "revoked"
    assert HttpClient().post(f"/p/alpha/r/{token}/").status_code == 410
    [event] = _events(cast.alpha, AuditAction.PORTAL_ACCESS_REVOKED)
    assert event.actor == cast.mia and event.detail["links_revoked"] == 1


def test_revoking_one_client_keeps_the_contacts_other_clients(cast, pcast):
    acme_link = make_link(pcast.acme_request, pcast.carl)[1]
    with tenant_context(cast.alpha):
        ClientContact.objects.create(
            organization=cast.alpha, client=pcast.acme, contact=pcast.joan
        )
    make_grant(pcast.joan, pcast.acme)
    jane_link = make_link(pcast.jane_request, pcast.joan)[1]

    _staff(cast.mia).post(_revoke_url(pcast.joan, pcast.jane))

    assert _grant(pcast.joan, pcast.acme).is_active
    assert _check(cast.alpha, jane_link).reason == "revoked"
    assert _check(cast.alpha, acme_link).ok


def test_granting_again_restores_a_revoked_access(cast, pcast):
    http = _staff(cast.mia)
    http.post(_revoke_url(pcast.joan, pcast.jane))

    http.post(_grant_url(pcast.joan, pcast.jane), {"can_upload": "on"})

    grant = _grant(pcast.joan, pcast.jane)
    assert grant.revoked_at is None and grant.revoked_by is None
    assert _events(cast.alpha, AuditAction.PORTAL_ACCESS_GRANTED)[0].detail["restored"]


# Inviting ----------------------------------------------------------------------------


def _invite(http, contact) -> str:
    """Invite through the page; returns the token from the email."""
    http.post(_invite_url(contact))
    return INVITATION.search(mail.outbox[-1].body)[1]


def test_an_invitation_email_has_a_welcome_link_that_a_get_does_not_use(cast, pcast):
    token = _invite(_staff(cast.mia), pcast.joan)

    [email] = mail.outbox
    assert email.to == ["joan@client.test"]
    assert email.reply_to == ["mia@alpha.test"]
    assert email.subject == "Alpha Accounting invites you to its client portal"
    html, kind = email.alternatives[0]
    assert kind == "text/html" and "Alpha Accounting" in html
    assert f"/p/alpha/welcome/{token}/" in html  # the button
    with tenant_context(cast.alpha):
        invitation = PortalInvitation.objects.get(contact=pcast.joan)
    assert invitation.token_hash == token_hash(token)  # the token itself is not kept
    assert invitation.invited_by == cast.mia
    assert invitation.expires_at - timezone.now() > timedelta(days=13)

    browser = HttpClient()
    opened = browser.get(f"/p/alpha/welcome/{token}/")
    assert opened.status_code == 200 and "Continue" in opened.content.decode()
    assert _fresh(invitation).used_at is None

    signed_in = browser.post(f"/p/alpha/welcome/{token}/")
    assert signed_in.status_code == 302
    assert _fresh(invitation).used_at is not None
    assert browser.get("/p/alpha/").url == "/p/alpha/home/"  # signed in
    [event] = _events(cast.alpha, AuditAction.PORTAL_INVITED)
    assert event.actor == cast.mia and event.target == "Joan Doe"


def test_resending_an_invitation_withdraws_the_earlier_one(cast, pcast):
    http = _staff(cast.mia)
    first = _invite(http, pcast.joan)
    page = http.get(_page(pcast.joan)).content.decode()
    assert "Resend invitation" in page

    second = _invite(http, pcast.joan)

    assert first != second
    assert HttpClient().get(f"/p/alpha/welcome/{first}/").status_code == 410
    assert HttpClient().get(f"/p/alpha/welcome/{second}/").status_code == 200


def test_an_invitation_needs_an_active_grant(cast, pcast, jim):
    response = _staff(cast.mia).post(_invite_url(jim), follow=True)

    assert mail.outbox == []
    assert "Give Jim Doe access to at least one client" in _messages(response)[0]
    with tenant_context(cast.alpha):
        assert not PortalInvitation.objects.filter(contact=jim).exists()


def test_revoking_the_last_access_withdraws_an_open_invitation(cast, pcast):
    http = _staff(cast.mia)
    token = _invite(http, pcast.joan)

    http.post(_revoke_url(pcast.joan, pcast.jane))

    assert HttpClient().get(f"/p/alpha/welcome/{token}/").status_code == 410


# The page: account and access log ----------------------------------------------------


def test_the_page_shows_the_portal_account_and_the_access_log_with_addresses(
    cast, pcast
):
    phone = HttpClient(REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT="TestPhone/1.0")
    phone.post("/p/alpha/", {"email": "joan@client.test", "password": "wrong"})
    phone.post("/p/alpha/", {"email": "joan@client.test", "password": PASSWORD})

    response = _staff(cast.sam).get(_page(pcast.joan))

    html = response.content.decode()
    log = html.split('data-testid="access-log"')[1]
    assert "Signed in with password" in log
    assert "Wrong email or password" in log  # tried with her address
    assert log.index("Signed in with password") < log.index("Wrong email")
    assert "203.0.113.9" in log and "TestPhone/1.0" in log
    account = html.split('data-testid="portal-account"')[1]
    assert "Has an account" in account and "Set" in account
    assert "Last sign-in" in account and "Never" not in account


def test_the_access_log_lists_only_this_contacts_activity(cast, pcast):
    with tenant_context(cast.alpha):
        for contact, summary in ((pcast.joan, "Joan's"), (pcast.carl, "Carl's")):
            PortalActivity.objects.create(
                organization=cast.alpha,
                contact=contact,
                email=contact.email,
                action=Activity.REQUEST_VIEWED,
                summary=f"{summary} visit",
                ip_address="198.51.100.7",
            )

    html = _staff(cast.sam).get(_page(pcast.joan)).content.decode()

    assert "Joan&#x27;s visit" in html and "Carl&#x27;s visit" not in html


def _activities(org, contact, count: int) -> None:
    now = timezone.now()
    with tenant_context(org):
        PortalActivity.objects.bulk_create(
            PortalActivity(
                organization=org,
                contact=contact,
                email=contact.email,
                action=Activity.REQUEST_VIEWED,
                summary=f"Visit {n}",
                ip_address="198.51.100.7",
                created_at=now - timedelta(minutes=n),
            )
            for n in range(count)
        )


def test_the_access_log_pages_by_fifty(cast, pcast):
    _activities(cast.alpha, pcast.joan, 55)
    http = _staff(cast.sam)

    first = http.get(_page(pcast.joan))
    older = http.get(
        _page(pcast.joan), {"cursor": first.context["activity"].next_cursor}
    )

    assert len(first.context["activity"].rows) == 50
    assert first.context["activity"].rows[0].summary == "Visit 0"
    assert [r.summary for r in older.context["activity"].rows] == [
        f"Visit {n}" for n in range(50, 55)
    ]


def test_the_page_lists_each_client_of_the_contact_once(cast, pcast):
    with tenant_context(cast.alpha):
        ClientContact.objects.create(
            organization=cast.alpha,
            client=pcast.jane,
            contact=pcast.joan,
            role="billing",
        )

    response = _staff(cast.sam).get(_page(pcast.joan))

    assert [r.client.display_name for r in response.context["rows"]] == ["Jane Doe"]


def test_the_query_count_does_not_grow_with_clients_or_activity(
    cast, pcast, django_assert_num_queries
):
    http = _staff(cast.sam)
    http.get(_page(pcast.joan))  # settles the session's first-visit writes
    # Joan has Jane; 1 more client and 2 activities, then 6 more of each: 2 vs 8.
    for step, more in enumerate((1, 6)):
        for n in range(more):
            client = make_client(cast.alpha, f"Client {step}-{n}")
            with tenant_context(cast.alpha):
                ClientContact.objects.create(
                    organization=cast.alpha, client=client, contact=pcast.joan
                )
            make_grant(pcast.joan, client)
        _activities(cast.alpha, pcast.joan, 2 if step == 0 else 6)
        # 1 session, 2 user, 3 the firm, entered in its RLS context, 4 the member's
        # firms, 5 the contact, 6 its clients, 7 its grants, 8 its latest
        # invitation, 9 a page of its access log, 10 its portal account, 11 reset
        # the RLS context.
        with django_assert_num_queries(11):
            response = http.get(_page(pcast.joan))
        assert response.status_code == 200
        assert len(response.context["rows"]) == (2 if step == 0 else 8)
    assert len(response.context["activity"].rows) == 8


# The panel on the contact page -------------------------------------------------------


def test_the_contact_page_summarises_portal_access_with_a_link(cast, pcast):
    response = _staff(cast.sam).get(f"/o/alpha/contacts/{pcast.joan.uuid}/edit/")

    html = response.content.decode()
    panel = html.split('data-testid="contact-portal"')[1]
    assert "Jane Doe" in panel and "Has access" in panel
    assert "Sign engagement letters" in panel
    assert f'href="{_page(pcast.joan)}"' in panel
    assert "See portal access" in panel  # staff look; managers manage


def test_the_contact_page_panel_for_someone_without_access(cast, pcast):
    with tenant_context(cast.alpha):
        nora = Contact.objects.create(organization=cast.alpha, first_name="Nora")
        ClientContact.objects.create(
            organization=cast.alpha, client=pcast.jane, contact=nora
        )

    html = _staff(cast.mia).get(f"/o/alpha/contacts/{nora.uuid}/edit/").content.decode()

    panel = html.split('data-testid="contact-portal"')[1]
    assert "No portal access yet." in panel and "No email address" in panel
    assert "Manage portal access" in panel
