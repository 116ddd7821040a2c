"""The client list's queries can use their indexes under row-level security.

The policy on every tenant table is a security barrier: PostgreSQL may push a
condition below it into an index only when the condition's operators are
leakproof. Btree comparisons are (=, <, >, row comparisons); LIKE, ILIKE,
pg_trgm's operators, @> and && are not. These tests take the real queries of
the list page (through the test client and the middleware), EXPLAIN them in
the firm's context as the application role with sequential scans switched
off, and check that each one reads the index it was built for.
"""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from advisoros.tenancy.db import tenant_context
from bench.clients_seed import seed_clients
from tests.factories import explain, index_scans

pytestmark = pytest.mark.django_db

TABLES = ("clients_client", "clients_clientsearchtoken")


@pytest.fixture
def big_alpha(cast):
    """Alpha with 1,000 clients (and Beta with 100, so the policy has rows to hide)."""
    for org, count in ((cast.beta, 100), (cast.alpha, 1000)):
        with tenant_context(org):
            seed_clients(organization=org, clients=count)
    return cast


def _client_queries(http, url: str, table: str = "clients_client") -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = http.get(url)
    assert response.status_code == 200
    return [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].startswith("SELECT") and f'FROM "{table}"' in q["sql"]
    ]


def _plan_nodes(org, sql: str) -> list[dict]:
    """Every node of the plan, run as the app role in the firm's context."""
    return explain(sql, organization=org, seqscan=False)


def _assert_uses(nodes: list[dict], index: str) -> dict:
    scans = index_scans(nodes, tables=TABLES)
    assert index in scans, f"{index} not used; plan used {sorted(scans)}"
    return scans[index]


def _list_url(org, query: str = "") -> str:
    url = reverse("clients:client_list", args=[org.slug])
    return f"{url}?{query}" if query else url


def test_it_runs_as_a_role_that_row_level_security_binds(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
        )
        assert cursor.fetchone() == (False, False)


def test_the_first_page_reads_the_name_index(big_alpha, login_as):
    http = login_as(big_alpha.alice)
    (sql,) = _client_queries(http, _list_url(big_alpha.alpha))
    scan = _assert_uses(_plan_nodes(big_alpha.alpha, sql), "client_org_name")
    assert "organization_id" in scan["Index Cond"]


def test_a_deep_page_starts_inside_the_name_index(big_alpha, login_as):
    http = login_as(big_alpha.alice)
    path = _list_url(big_alpha.alpha)
    for _ in range(3):  # page 4: the keyset cursor of page 3's last row
        html = http.get(path).content.decode()
        link = re.search(r"<a\b[^>]*\brel=\"next\"[^>]*>", html).group(0)
        path = unescape(re.search(r"\bhref=\"([^\"]+)\"", link).group(1))
    assert "cursor=" in path
    (sql,) = _client_queries(http, path)
    scan = _assert_uses(_plan_nodes(big_alpha.alpha, sql), "client_org_name")
    # The cursor is an index condition (a range start), not a filter on every row.
    assert "sort_name" in scan["Index Cond"]


def test_a_one_word_search_pages_through_the_token_index_alone(big_alpha, login_as):
    http = login_as(big_alpha.alice)
    (sql,) = _client_queries(
        http, _list_url(big_alpha.alpha, "q=smi"), table="clients_clientsearchtoken"
    )
    scan = _assert_uses(_plan_nodes(big_alpha.alpha, sql), "searchtoken_org_token_page")
    # The prefix range is inside the index: C-collation comparisons are leakproof.
    # The sort key travels with the token, so no client row is read for the page
    # (an index-only scan once the table's visibility map is set).
    assert "token" in scan["Index Cond"]
    assert '"clients_client"' not in sql


def test_a_two_word_search_probes_the_tokens_of_each_client(big_alpha, login_as):
    http = login_as(big_alpha.alice)
    (sql,) = _client_queries(http, _list_url(big_alpha.alpha, "q=smi jo"))
    nodes = _plan_nodes(big_alpha.alpha, sql)
    token_scans = [
        n
        for n in nodes
        if n.get("Index Name")
        in ("searchtoken_client_token", "searchtoken_org_token_page")
    ]
    assert token_scans, "no token index scan"
    for scan in token_scans:
        assert "token" in scan["Index Cond"]


def test_an_email_search_starts_from_the_token(big_alpha, login_as):
    from clients.models import Contact

    with tenant_context(big_alpha.alpha):
        email = Contact.objects.exclude(email="").order_by("pk")[10].email
    http = login_as(big_alpha.alice)
    (sql,) = _client_queries(
        http,
        _list_url(big_alpha.alpha, f"q={email}"),
        table="clients_clientsearchtoken",
    )
    _assert_uses(_plan_nodes(big_alpha.alpha, sql), "searchtoken_org_token_page")


def test_the_status_filter_reads_the_status_index(big_alpha, login_as):
    http = login_as(big_alpha.alice)
    (sql,) = _client_queries(http, _list_url(big_alpha.alpha, "status=active"))
    scan = _assert_uses(_plan_nodes(big_alpha.alpha, sql), "client_org_status_name")
    assert "status" in scan["Index Cond"]


def test_status_and_entity_type_read_their_index(big_alpha, login_as):
    http = login_as(big_alpha.alice)
    (sql,) = _client_queries(
        http, _list_url(big_alpha.alpha, "status=active&entity_type=llc")
    )
    scan = _assert_uses(
        _plan_nodes(big_alpha.alpha, sql), "client_org_status_type_name"
    )
    assert "entity_type" in scan["Index Cond"]
