"""The owners' audit integrity page: the trail's state, and a checkpoint on demand."""

from __future__ import annotations

import pytest

from advisoros.audit.integrity import latest_checkpoint_name
from advisoros.audit.models import AuditAction, AuditCheckpoint, AuditEvent
from advisoros.tenancy.db import platform_bypass, tenant_context
from tests.factories import make_client

URL = "/o/alpha/audit/integrity/"
CHECKPOINT_URL = "/o/alpha/audit/integrity/checkpoint"


@pytest.mark.parametrize("who", ["adam", "mia", "sam", "rita"])
def test_it_is_for_owners_only(cast, login_as, who):
    client = login_as(getattr(cast, who))

    assert client.get(URL).status_code == 403
    assert client.post(CHECKPOINT_URL).status_code == 403
    assert latest_checkpoint_name(cast.alpha) is None


def test_another_firms_owner_gets_404(cast, login_as):
    client = login_as(cast.oscar)

    assert client.get(URL).status_code == 404
    assert client.post(CHECKPOINT_URL).status_code == 404


def test_it_shows_an_intact_trail_without_a_checkpoint_yet(cast, login_as):
    response = login_as(cast.alice).get(URL)

    assert response.status_code == 200
    assert b"Nothing was rewritten" in response.content
    assert b"None yet" in response.content
    assert b"Create checkpoint now" in response.content


def test_the_button_writes_a_checkpoint_and_records_who_did(cast, login_as):
    client = login_as(cast.alice)

    response = client.post(CHECKPOINT_URL, follow=True)

    assert response.redirect_chain == [(URL, 302)]
    name = latest_checkpoint_name(cast.alpha)
    assert name is not None
    assert "the database matches it" in response.content.decode()
    assert name in response.content.decode()
    with tenant_context(cast.alpha):
        event = AuditEvent.objects.filter(
            organization=cast.alpha, action=AuditAction.AUDIT_CHECKPOINT_CREATED
        ).get()
        assert AuditCheckpoint.objects.filter(organization=cast.alpha).count() == 1
    assert (event.actor, event.detail["checkpoint"]) == (cast.alice, name)


def test_a_checkpoint_needs_a_post(cast, login_as):
    assert login_as(cast.alice).get(CHECKPOINT_URL).status_code == 405


def test_it_names_what_does_not_match(cast, login_as, tamper):
    client = login_as(cast.alice)
    client.post(CHECKPOINT_URL)
    tamper(
        ["audit_auditevent"],
        "UPDATE audit_auditevent SET target = 'x' WHERE organization_id = %s",
        [cast.alpha.pk],
    )

    response = client.get(URL)

    assert b"Problems found" in response.content
    assert b"content does not match its hash (altered)" in response.content


def test_the_audit_log_links_here_for_owners_only(cast, login_as):
    assert (
        b'href="/o/alpha/audit/integrity/"'
        in login_as(cast.alice).get("/o/alpha/audit/").content
    )
    assert (
        b"/audit/integrity/" not in login_as(cast.adam).get("/o/alpha/audit/").content
    )


def test_its_query_count_does_not_grow_with_the_trail(
    cast, login_as, django_assert_num_queries
):
    client = login_as(cast.alice)
    client.get(URL)  # settles the session's first-visit writes
    for n in (1, 20):
        for i in range(n):
            make_client(cast.alpha, f"Client {n}-{i}")
        client.post(CHECKPOINT_URL)
        # 1 session, 2 user, 3 the firm, entered in its RLS context, 4 the member's
        # firms, 5 the newest checkpoint's index row, 6 every event, 7 every seal,
        # 8 every change-log entry (each one pass), 9 the last checkpoints,
        # 10 reset the RLS context.
        with django_assert_num_queries(10):
            response = client.get(URL)
        assert response.status_code == 200
        assert b"Nothing was rewritten" in response.content
    with platform_bypass():
        assert AuditCheckpoint.objects.filter(organization=cast.alpha).count() == 2
