"""The Safeguards page: the firm against the FTC Safeguards Rule's testable items,
for owners only, with an access-review button that is audited."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from advisoros.audit.models import AuditAction, AuditEvent
from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.models import AccessReview, Role
from tests.factories import make_member

URL = "/o/alpha/safeguards/"
REVIEW_URL = "/o/alpha/safeguards/access-review/"


def _row(response, key: str) -> str:
    """The HTML of one item's row."""
    html = response.content.decode()
    start = html.index(f'data-testid="safeguard-{key}"')
    return html[start : html.index("</tr>", start)]


def _two_factor(user) -> None:
    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def test_an_owner_sees_every_item(cast, login_as):
    response = login_as(cast.alice).get(URL)

    assert response.status_code == 200
    keys = [item.key for item in response.context["items"]]
    assert keys == [
        "two_factor",
        "tax_ids",
        "files",
        "logging",
        "access_review",
        "export",
        "scanner",
    ]
    assert response.context["attention"] == sum(
        not item.ok for item in response.context["items"]
    )


@pytest.mark.parametrize("member", ["adam", "mia", "sam", "rita"])
def test_only_owners_may_open_it(cast, login_as, member):
    client = login_as(getattr(cast, member))

    assert client.get(URL).status_code == 403
    assert client.post(REVIEW_URL).status_code == 403


def test_the_navigation_links_it_for_owners_only(cast, login_as):
    owner = login_as(cast.alice).get("/o/alpha/").content.decode()
    admin = login_as(cast.adam).get("/o/alpha/").content.decode()

    assert f'href="{URL}"' in owner
    assert f'href="{URL}"' not in admin


def test_members_without_two_factor_are_counted_and_named(cast, login_as):
    _two_factor(cast.alice)
    _two_factor(cast.sam)
    # An inactive member does not count; another firm's members never show.
    make_member(cast.alpha, "Gone Member", Role.STAFF, is_active=False)

    response = login_as(cast.alice).get(URL)

    row = _row(response, "two_factor")
    assert "Needs attention" in row
    assert "3 of 5 active members sign in without two-factor" in row
    for name in ("Adam Admin", "Mia Manager", "Rita Readonly"):
        assert name in row
    for name in ("Alice Owner", "Sam Staff", "Gone Member", "Oscar Outsider"):
        assert name not in row
    assert 'href="/o/alpha/settings/"' in row  # require it for everyone


def test_two_factor_is_ok_when_every_member_has_it(cast, login_as):
    for user in (cast.alice, cast.adam, cast.mia, cast.sam, cast.rita):
        _two_factor(user)

    row = _row(login_as(cast.alice).get(URL), "two_factor")

    assert ">OK<" in row
    assert "All 5 active members sign in with two-factor" in row


def test_tax_ids_name_the_algorithm_and_where_the_key_lives(cast, login_as, settings):
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]

    row = _row(login_as(cast.alice).get(URL), "tax_ids")

    assert ">OK<" in row
    assert "AES-128-CBC with HMAC-SHA256" in row
    assert "never in the database" in row


def test_the_development_key_needs_attention(cast, login_as, settings):
    settings.FIELD_ENCRYPTION_KEYS = [
        base64.urlsafe_b64encode(
            hashlib.sha256(settings.SECRET_KEY.encode()).digest()
        ).decode()
    ]

    row = _row(login_as(cast.alice).get(URL), "tax_ids")

    assert "Needs attention" in row
    assert "FIELD_ENCRYPTION_KEYS" in row


def test_files_on_local_disk_are_said_honestly(cast, login_as):
    row = _row(login_as(cast.alice).get(URL), "files")

    assert "Needs attention" in row
    assert "does not encrypt them" in row


def test_files_in_s3_with_server_side_encryption_are_ok(cast, login_as, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {"object_parameters": {"ServerSideEncryption": "AES256"}},
        },
    }

    row = _row(login_as(cast.alice).get(URL), "files")

    assert ">OK<" in row
    assert "server-side encryption (AES256)" in row


def test_logging_shows_the_trail_and_its_intact_chain(cast, login_as):
    row = _row(login_as(cast.alice).get(URL), "logging")

    with tenant_context(cast.alpha):
        events = AuditEvent.objects.filter(organization=cast.alpha).count()
    assert ">OK<" in row
    assert f"{events} events recorded, its hash chain is intact" in row
    assert 'href="/o/alpha/audit/"' in row


def test_no_export_yet(cast, login_as):
    row = _row(login_as(cast.alice).get(URL), "export")

    assert "Needs attention" in row
    assert "No export yet" in row


def test_a_finished_export_is_shown_with_its_day(cast, login_as):
    from advisoros.tenancy.db import tenant_context
    from advisoros.tenancy.models import FirmExport

    with tenant_context(cast.alpha):
        FirmExport.objects.create(
            organization=cast.alpha,
            created_by=cast.alice,
            status=FirmExport.Status.READY,
            finished_at=timezone.now(),
        )
    row = _row(login_as(cast.alice).get(URL), "export")

    assert "Needs attention" not in row
    assert "Last full export on" in row


def test_the_scanner_is_not_configured_until_its_socket_is_set(
    cast, login_as, settings
):
    client = login_as(cast.alice)
    assert "Not configured" in _row(client.get(URL), "scanner")

    settings.CLAMD_SOCKET = "/run/clamav/clamd.ctl"

    row = _row(client.get(URL), "scanner")
    assert ">OK<" in row
    assert "/run/clamav/clamd.ctl" in row


def test_an_owner_records_an_access_review_which_is_audited(cast, login_as):
    client = login_as(cast.alice)
    assert "Nobody has recorded a review" in _row(client.get(URL), "access_review")

    response = client.post(REVIEW_URL)

    assert response.status_code == 302
    assert response.url == URL
    with tenant_context(cast.alpha):
        (review,) = AccessReview.objects.all()
        event = AuditEvent.objects.get(action=AuditAction.ACCESS_REVIEWED)
    assert review.reviewed_by == cast.alice
    assert event.actor == cast.alice
    assert event.detail == {"active_members": 5}
    row = _row(client.get(URL), "access_review")
    assert ">OK<" in row
    assert "by Alice Owner" in row
    assert f"{timezone.localdate():%B %-d, %Y}" in row


def test_an_old_access_review_asks_for_a_new_one(cast, login_as):
    with tenant_context(cast.alpha):
        AccessReview.objects.create(
            organization=cast.alpha,
            reviewed_by=cast.alice,
            created_at=timezone.now() - timedelta(days=120),
        )

    row = _row(login_as(cast.alice).get(URL), "access_review")

    assert "Needs attention" in row
    assert "Review again every 90 days" in row


def test_the_page_makes_the_same_number_of_queries_for_few_or_many_members(
    cast, login_as, django_assert_num_queries
):
    client = login_as(cast.alice)
    client.get(URL)  # the first request also writes the session
    with tenant_context(cast.alpha):
        AccessReview.objects.create(organization=cast.alpha, reviewed_by=cast.adam)
    for extra in (0, 15):
        for n in range(extra):
            make_member(cast.alpha, f"Member {extra}x{n}", Role.STAFF)
        # 1 session, 2 user, 3 the firm, entered in its RLS context, 4 the member's
        # firms, 5 members with their two-factor state, 6 the audit events' count,
        # 7 the events of the chain, 8 the last access review with its reviewer,
        # 9 the last finished export, 10 reset the RLS context.
        with django_assert_num_queries(10):
            response = client.get(URL)
        assert response.status_code == 200
