"""The audit page: owners and admins only, filters, pagination, CSV export."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from advisoros.audit.models import AuditAction, AuditEvent
from advisoros.tenancy.db import platform_bypass, tenant_context


def _add_events(org, user, n, action=AuditAction.LOGIN_SUCCESS, **extra):
    with platform_bypass():
        AuditEvent.objects.bulk_create(
            AuditEvent(
                organization=org,
                action=action,
                actor=user,
                actor_email=user.email,
                **extra,
            )
            for _ in range(n)
        )


@pytest.mark.parametrize("who", ["sam", "rita"])
def test_it_is_forbidden_below_admin(cast, client, who):
    client.force_login(getattr(cast, who))
    assert client.get("/o/alpha/audit/").status_code == 403
    assert client.get("/o/alpha/audit/export.csv").status_code == 403


def test_it_lists_only_this_firms_events(cast, client):
    _add_events(cast.beta, cast.oscar, 3, target="beta-secret-target")
    client.force_login(cast.adam)
    response = client.get("/o/alpha/audit/")
    assert response.status_code == 200
    assert b"beta-secret-target" not in response.content
    assert b"Firm created" in response.content


def test_it_filters_by_who_what_and_when(cast, client):
    _add_events(
        cast.alpha, cast.sam, 2, action=AuditAction.LOGIN_FAILURE, target="by-sam"
    )
    _add_events(
        cast.alpha, cast.rita, 1, action=AuditAction.LOGIN_FAILURE, target="by-rita"
    )
    old = timezone.now() - timedelta(days=40)
    _add_events(
        cast.alpha,
        cast.sam,
        1,
        action=AuditAction.LOGIN_FAILURE,
        target="long-ago",
        created_at=old,
    )
    sam = cast.membership(cast.sam, cast.alpha)
    client.force_login(cast.alice)
    since = (timezone.now() - timedelta(days=7)).date().isoformat()
    response = client.get(
        "/o/alpha/audit/",
        {
            "kind": "events",
            "actor": sam.uuid,
            "action": "login_failure",
            "date_from": since,
        },
    )
    rows = response.context["page"].object_list
    assert [e.target for e in rows] == ["by-sam", "by-sam"]


def test_the_actor_filter_offers_only_this_firms_members(cast, client):
    client.force_login(cast.alice)
    response = client.get("/o/alpha/audit/")
    assert b"Sam Staff &lt;sam@alpha.test&gt;" in response.content
    assert b"oscar@beta.test" not in response.content
    # A member of another firm cannot be smuggled in as a filter value.
    oscar = cast.membership(cast.oscar, cast.beta)
    response = client.get("/o/alpha/audit/", {"actor": oscar.uuid})
    assert "actor" in response.context["form"].errors


def test_the_changes_tab_shows_model_changes(cast, client):
    client.force_login(cast.alice)
    sam = cast.membership(cast.sam, cast.alpha)
    client.post(f"/o/alpha/members/{sam.uuid}/role/", {"role": "manager"})
    response = client.get("/o/alpha/audit/", {"kind": "changes", "action": "1"})
    assert response.status_code == 200
    entries = response.context["page"].object_list
    assert any(e.changes_dict.get("role") == ["staff", "manager"] for e in entries)


def test_the_page_makes_the_same_number_of_queries_for_10_or_200_events(
    cast, client, django_assert_num_queries
):
    client.force_login(cast.alice)
    client.get("/o/alpha/audit/")  # the first request also writes the session
    for extra_events in (10, 190):
        _add_events(cast.alpha, cast.sam, extra_events)
        # 1 session, 2 user, 3 the firm, entered in its RLS context, 4 the member's
        # firms (the membership and the switcher), 5 count for the paginator, 6 the
        # "who" filter's choices, 7 a page of events with their actors, 8 reset the RLS
        # context.
        with django_assert_num_queries(8):
            response = client.get("/o/alpha/audit/")
        assert response.status_code == 200
    assert len(response.context["page"].object_list) == 50


def test_the_csv_export_has_the_filtered_rows_and_is_itself_audited(cast, client):
    _add_events(
        cast.alpha,
        cast.sam,
        3,
        action=AuditAction.LOGIN_FAILURE,
        target='=HYPERLINK("x")',
    )
    client.force_login(cast.alice)
    response = client.get("/o/alpha/audit/export.csv", {"action": "login_failure"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment;" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:3] == ["timestamp", "actor", "event"]
    assert len(rows) == 4
    # Free text that a spreadsheet would run as a formula is neutralised.
    assert all(r[3].startswith("'=") for r in rows[1:])
    with tenant_context(cast.alpha):
        assert AuditEvent.objects.filter(
            action=AuditAction.AUDIT_EXPORTED, actor=cast.alice
        ).exists()
