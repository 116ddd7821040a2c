"""The Django admin: platform superusers see every firm, firm admins only their own."""

from __future__ import annotations

import pytest

from advisoros.audit.models import AuditAction, AuditEvent, CspReport
from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.models import Membership, Role

BETA_EMAILS = ("oscar@beta.test", "new@beta.test")
ALPHA_EMAILS = ("alice@alpha.test", "sam@alpha.test")


def test_a_superuser_without_a_verified_second_factor_is_kept_out(cast, login_as, root):
    response = login_as(root).get("/admin/tenancy/membership/")

    assert response.status_code == 302
    assert response.url == "/accounts/security/two-factor/required/"


@pytest.fixture
def adam_in_alpha(cast, login_as):
    """Adam, Alpha's admin, whose last firm page was Alpha's."""
    client = login_as(cast.adam)
    assert client.get("/o/alpha/").status_code == 200
    return client


# Platform superusers ------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/admin/tenancy/membership/",
        "/admin/tenancy/invitation/",
        "/admin/audit/auditevent/",
    ],
)
def test_a_superuser_sees_every_firms_rows(cast, as_root, url):
    response = as_root.get(url)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Alpha Accounting" in html
    assert "Beta Bookkeeping" in html


def test_a_superuser_sees_every_firm_and_every_member(cast, as_root):
    client = as_root

    firms = client.get("/admin/tenancy/organization/").content.decode()
    members = client.get("/admin/tenancy/membership/").content.decode()

    assert "Alpha Accounting" in firms
    assert "Beta Bookkeeping" in firms
    assert "Alice Owner" in members
    assert "Oscar Outsider" in members
    assert client.get("/admin/accounts/user/").status_code == 200


def test_a_superuser_opens_any_firms_membership(cast, as_root):
    oscar = cast.membership(cast.oscar, cast.beta)

    response = as_root.get(f"/admin/tenancy/membership/{oscar.pk}/change/")

    assert response.status_code == 200
    assert "Oscar Outsider" in response.content.decode()


# Firm admins ----------------------------------------------------------------------


def test_a_firm_admin_sees_only_their_firms_members(cast, adam_in_alpha):
    response = adam_in_alpha.get("/admin/tenancy/membership/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Alice Owner" in html
    assert "Sam Staff" in html
    assert "Oscar Outsider" not in html
    assert "Beta Bookkeeping" not in html
    for email in BETA_EMAILS:
        assert email not in html


@pytest.mark.parametrize(
    "url",
    [
        "/admin/tenancy/organization/",
        "/admin/tenancy/invitation/",
        "/admin/audit/auditevent/",
        "/admin/audit/logentry/",
    ],
)
def test_a_firm_admin_sees_only_their_firms_rows(cast, adam_in_alpha, url):
    response = adam_in_alpha.get(url)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Beta Bookkeeping" not in html
    for email in BETA_EMAILS:
        assert email not in html


def test_a_firm_admin_cannot_filter_their_way_into_another_firm(cast, adam_in_alpha):
    response = adam_in_alpha.get(
        f"/admin/tenancy/membership/?organization__id__exact={cast.beta.pk}"
    )

    assert "Oscar Outsider" not in response.content.decode()


def test_a_firm_admin_opens_their_firms_membership_read_only(cast, adam_in_alpha):
    sam = cast.membership(cast.sam, cast.alpha)
    url = f"/admin/tenancy/membership/{sam.pk}/change/"

    page = adam_in_alpha.get(url)
    response = adam_in_alpha.post(url, {"role": Role.OWNER, "is_active": "on"})

    assert page.status_code == 200
    assert "Sam Staff" in page.content.decode()
    # Role changes go through the members page, which enforces the owner rules.
    assert response.status_code == 403
    assert cast.membership(cast.sam, cast.alpha).role == Role.STAFF


def test_a_firm_admin_cannot_promote_themself_in_the_admin(cast, adam_in_alpha):
    adam = cast.membership(cast.adam, cast.alpha)

    adam_in_alpha.post(
        f"/admin/tenancy/membership/{adam.pk}/change/",
        {"role": Role.OWNER, "is_active": "on"},
    )

    assert cast.membership(cast.adam, cast.alpha).role == Role.ADMIN


@pytest.mark.parametrize("model", ["membership", "invitation", "organization"])
def test_a_firm_admin_cannot_open_another_firms_object(cast, adam_in_alpha, model):
    pk = {
        "membership": lambda: cast.membership(cast.oscar, cast.beta).pk,
        "invitation": lambda: cast.beta_invitation.pk,
        "organization": lambda: cast.beta.pk,
    }[model]()

    response = adam_in_alpha.get(f"/admin/tenancy/{model}/{pk}/change/")

    # The admin's "doesn't exist" answer: back to the index, nothing shown.
    assert response.status_code in (302, 404)
    if response.status_code == 302:
        assert response.url == "/admin/"
    assert "Beta" not in response.content.decode()


def test_a_firm_admin_cannot_see_the_user_admin(cast, adam_in_alpha):
    index = adam_in_alpha.get("/admin/")

    assert index.status_code == 200
    assert "/admin/tenancy/membership/" in index.content.decode()
    assert "/admin/accounts/user/" not in index.content.decode()
    assert adam_in_alpha.get("/admin/accounts/user/").status_code == 403
    user_page = f"/admin/accounts/user/{cast.oscar.pk}/change/"
    assert adam_in_alpha.get(user_page).status_code == 403


def test_a_firm_admin_who_has_opened_no_firm_gets_no_admin(cast, login_as):
    response = login_as(cast.adam).get("/admin/tenancy/membership/")

    assert response.status_code == 302
    assert "login" in response.url


@pytest.mark.parametrize(
    "change",
    [{"is_active": False}, {"role": Role.STAFF}],
    ids=["deactivated", "demoted"],
)
def test_a_firm_admin_loses_the_admin_at_once(cast, adam_in_alpha, change):
    with tenant_context(cast.alpha):
        Membership.objects.filter(user=cast.adam).update(**change)

    response = adam_in_alpha.get("/admin/tenancy/membership/")

    assert response.status_code == 302
    assert "login" in response.url


def test_someone_in_two_firms_administers_the_one_they_last_opened(cast, login_as):
    with tenant_context(cast.alpha):
        Membership.objects.create(
            organization=cast.alpha, user=cast.oscar, role=Role.ADMIN
        )
    client = login_as(cast.oscar)

    client.get("/o/alpha/")
    alpha_view = client.get("/admin/tenancy/invitation/").content.decode()
    client.get("/o/beta/")
    beta_view = client.get("/admin/tenancy/invitation/").content.decode()

    assert "new@alpha.test" in alpha_view
    assert "new@beta.test" not in alpha_view
    assert "new@beta.test" in beta_view
    assert "new@alpha.test" not in beta_view


# Everyone else --------------------------------------------------------------------


@pytest.mark.parametrize("person", ["sam", "rita"])
def test_staff_and_read_only_members_cannot_use_the_admin(cast, login_as, person):
    client = login_as(getattr(cast, person))
    assert client.get("/o/alpha/").status_code == 200

    for url in ("/admin/", "/admin/tenancy/membership/"):
        response = client.get(url)
        assert response.status_code in (302, 403)
        if response.status_code == 302:
            assert "login" in response.url


def test_an_outsider_cannot_switch_into_another_firms_admin(cast, login_as):
    client = login_as(cast.oscar)
    assert client.get("/o/beta/").status_code == 200
    session = client.session
    session["active_org"] = "alpha"
    session.save()

    responses = [
        client.get(url)
        for url in (
            "/admin/",
            "/admin/tenancy/membership/",
            f"/admin/tenancy/membership/{cast.membership(cast.sam, cast.alpha).pk}"
            "/change/",
        )
    ]

    for response in responses:
        assert response.status_code == 302
        assert "login" in response.url
        for email in ALPHA_EMAILS:
            assert email not in response.content.decode()


def test_an_anonymous_visitor_is_sent_to_sign_in(cast, client):
    response = client.get("/admin/tenancy/membership/")

    assert response.status_code == 302
    assert "login" in response.url


def test_a_firm_admin_edits_their_firm_with_an_audit_event(cast, adam_in_alpha):
    response = adam_in_alpha.post(
        f"/admin/tenancy/organization/{cast.alpha.pk}/change/",
        {
            "name": "Alpha & Co",
            "timezone": "America/Chicago",
            "session_timeout_minutes": 30,
            "document_retention_years": 7,
            # Unchanged: the form sends every field it shows.
            "brand_color": cast.alpha.brand_color,
            "portal_link_days": cast.alpha.portal_link_days,
        },
    )

    assert response.status_code == 302
    cast.alpha.refresh_from_db()
    assert cast.alpha.name == "Alpha & Co"
    assert cast.alpha.slug == "alpha"
    with tenant_context(cast.alpha):
        [event] = AuditEvent.objects.filter(action=AuditAction.FIRM_SETTINGS_CHANGED)
    assert event.actor_id == cast.adam.pk
    assert set(event.detail["fields"]) == {
        "name",
        "timezone",
        "session_timeout_minutes",
    }


def test_a_superuser_reads_csp_reports(cast, as_root):
    CspReport.objects.create(document_uri="/o/alpha/", violated_directive="img-src")

    listing = as_root.get("/admin/audit/cspreport/")
    assert listing.status_code == 200
    assert b"img-src" in listing.content
    assert b"Add CSP report" not in listing.content  # read-only


def test_a_firm_admin_does_not_see_csp_reports(cast, adam_in_alpha):
    assert adam_in_alpha.get("/admin/audit/cspreport/").status_code == 403
    assert b"cspreport" not in adam_in_alpha.get("/admin/").content
