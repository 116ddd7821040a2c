"""The portal's home page reads a fixed number of queries, its rows' clients
taken from the session's grants (PortalSession.with_clients), not joined again."""

from __future__ import annotations

from tests.factories import make_document
from tests.portal.builders import make_grant, make_request


def _home(client) -> str:
    response = client.get("/p/alpha/home/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_home_page_reads_the_same_queries_however_many_rows(
    pcast, joan_portal, django_assert_num_queries
):
    # Joan sees Acme too: the rows then name their client.
    make_grant(pcast.joan, pcast.acme)
    make_document(pcast.jane, title="Tax return 2025", visible_to_client=True)
    _home(joan_portal)  # the session's first write
    # The session; the firm with its RLS settings (one round trip); the account;
    # the grants with contacts and clients; the open requests with their
    # progress; the shared documents; the letters to sign; the unread messages;
    # the RLS settings reset.
    with django_assert_num_queries(9):
        html = _home(joan_portal)
    assert "2026 tax documents" in html and "Year-end books" in html
    assert "Tax return 2025" in html

    for n in range(5):
        make_request(pcast.acme, f"Request {n}", ["Receipts"])
        make_document(pcast.acme, title=f"Shared {n}", visible_to_client=True)
    with django_assert_num_queries(9):
        html = _home(joan_portal)
    assert "Request 4" in html and "Shared 4" in html
    assert html.count("Acme Ltd") >= 10  # each row's client, from the grants
