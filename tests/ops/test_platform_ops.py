"""The platform operations page: superusers only, a constant number of queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_q.models import OrmQ

from advisoros.ops import selectors
from advisoros.ops.models import MigrationTiming

URL = "/admin/ops/"


def _statements_installed() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_extension"
            " WHERE extname = 'pg_stat_statements')"
        )
        return cursor.fetchone()[0]


def _fill(n: int) -> None:
    """Work for the page to show: timed migrations and jobs waiting."""
    now = timezone.now()
    MigrationTiming.objects.bulk_create(
        MigrationTiming(
            app_label="documents",
            name=f"00{i:02d}_step",
            applied_at=now,
            seconds=0.5 + i,
        )
        for i in range(n)
    )
    OrmQ.objects.bulk_create(
        OrmQ(key="advisoros", payload="job", lock=now - timedelta(minutes=5 + i))
        for i in range(n)
    )


def test_the_page_costs_the_same_queries_however_much_it_shows(
    as_root, django_assert_num_queries
):
    # Session, user, authenticator device (two-factor verified), platform
    # bypass on; pg_class sizes; the ORM broker's queues; pg_extension
    # (+ pg_stat_statements in a savepoint when installed); pg_stat_database;
    # pg_stat_user_indexes; pg_stat_user_tables; the grouped per-firm count;
    # pg_stat_activity; the migration timings; bypass off.
    expected = 14 + (3 if _statements_installed() else 0)
    as_root.get(URL)  # the session's first activity stamp is written once
    _fill(1)
    with django_assert_num_queries(expected):
        few = as_root.get(URL)
    _fill(30)
    with django_assert_num_queries(expected):
        many = as_root.get(URL)

    assert few.status_code == many.status_code == 200
    html = many.content.decode()
    assert "documents.0029_step" in html  # the slowest migrations first
    assert "0:34:" in html  # the longest wait in the queue, 34 minutes
    # The firms with the most rows in the biggest tenant tables (which tables
    # those are depends on this database's history): each firm counted is
    # named, with its table.
    firms = many.context["rows_per_firm"]
    for row in firms:
        assert row["firm"] in html and row["table_name"] in html
    assert {row["table_name"] for row in firms} <= set(selectors.tenant_tables())


def test_it_says_when_pg_stat_statements_is_missing(as_root):
    if _statements_installed():
        pytest.skip("this server has pg_stat_statements")

    html = as_root.get(URL).content.decode()

    assert "Not available: pg_stat_statements is not installed" in html
    assert "shared_preload_libraries" in html


@pytest.mark.parametrize("who", ["alice", "adam", "oscar"])
def test_it_does_not_exist_for_anyone_but_a_superuser(cast, login_as, who):
    client = login_as(getattr(cast, who))
    client.get("/o/alpha/")  # a firm admin's last firm: the admin opens for adam

    assert client.get(URL).status_code == 404


def test_it_does_not_exist_for_an_anonymous_visitor(db, client):
    assert client.get(URL).status_code == 404


def test_the_admin_index_links_it_for_superusers(as_root):
    assert URL in as_root.get("/admin/").content.decode()
