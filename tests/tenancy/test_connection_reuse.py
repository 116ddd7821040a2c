"""One database connection serves request after request: no firm's setting survives."""

from __future__ import annotations

from django.db import connection


def _setting(name: str) -> str | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting(%s, true)", [name])
        return cursor.fetchone()[0]


def _setting_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def test_request_for_firm_b_after_firm_a_on_the_same_connection_sees_nothing_of_a(
    cast, client
):
    client.force_login(cast.alice)
    backend_pid = _setting_pid()

    first = client.get("/o/alpha/members/")
    assert first.status_code == 200
    assert b"sam@alpha.test" in first.content
    # PostgreSQL reads a transaction-local or reset setting as '' (not NULL):
    # either way no tenant row matches it.
    assert _setting("app.organization_id") == ""
    assert _setting("app.user_id") == ""

    client.force_login(cast.oscar)
    second = client.get("/o/beta/members/")
    assert second.status_code == 200
    assert b"oscar@beta.test" in second.content
    for leaked in (b"alice@alpha.test", b"sam@alpha.test", b"Alpha Accounting"):
        assert leaked not in second.content
    assert _setting_pid() == backend_pid  # really the same server session

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM tenancy_membership")
        assert cursor.fetchone()[0] == 0


def test_an_error_inside_a_firm_page_still_clears_the_setting(cast, client):
    client.force_login(cast.alice)
    response = client.get("/o/alpha/members/00000000-0000-0000-0000-000000000000/role/")
    assert response.status_code == 405  # POST only; the view refused inside the context
    response = client.post(
        "/o/alpha/members/00000000-0000-0000-0000-000000000000/role/"
    )
    assert response.status_code == 404
    assert _setting("app.organization_id") == ""
