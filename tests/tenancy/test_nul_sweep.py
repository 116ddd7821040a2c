"""A NUL character in anything a page reads is a 400, never a 500.

PostgreSQL text cannot hold NUL: a raw query parameter that reaches a query with
one made psycopg raise (`?q=x-%00` on the client list was a 500). The sweep takes
every page from the URL resolver (firm, portal and account pages) and sends NUL
in every query parameter the code reads; the parameter names are found in the
source, so a page that starts reading a new one joins by itself.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client as HttpClient
from django.urls import get_resolver

from advisoros.tenancy.db import tenant_context
from documents.models import Document
from tests.factories import LEDGER
from tests.portal.builders import (
    make_contact,
    make_grant,
    make_portal_account,
    portal_login,
)
from tests.tenancy.test_leak_sweep import FIRM_ROUTES, _fill, _walk

NUL = "x-\x00"
APPS = ("advisoros", "clients", "documents", "workflows", "portal")
# request.GET.get("q"), request.GET["start_date"], params.get("cursor", "") ...
READ = re.compile(r"""(?:GET|params)(?:\.get\(|\[)\s*["'](\w+)["']""")


def read_parameters() -> set[str]:
    """Every query parameter name the apps read by name, plus the names that
    pages read from a list (`for name in (...)`) or through a filter form."""
    found = set()
    for app in APPS:
        for source in (Path(settings.BASE_DIR) / app).rglob("*.py"):
            found |= set(READ.findall(source.read_text()))
    return found | {
        "template",
        "client",
        "engagement",
        "due_date",
        "name",
        "assignee",
        "priority",
        "from",
        "to",
        "category",
        "tax_year",
        "action",
        "actor",
    }


PARAMETERS = sorted(read_parameters())


def _routes(prefix: str) -> list[tuple[str, str]]:
    return sorted(
        (name, route)
        for route, name in _walk(get_resolver().url_patterns)
        if route.startswith(prefix)
    )


PORTAL_ROUTES = [
    (name, route)
    for name, route in _routes("p/<slug:org_slug>/")
    # Pages of one object: their identifiers are tried by the portal's leak sweep.
    if route.count("<") == 1
]
ACCOUNT_ROUTES = [(n, r) for n, r in _routes("accounts/") if "<" not in r]


def _with_nul(url: str) -> str:
    query = "&".join(f"{name}=x-%00" for name in PARAMETERS)
    return f"{url}?{query}"


def _params(routes):
    return [pytest.param(route, id=name) for name, route in routes]


def test_the_sweep_knows_the_search_boxes():
    assert {"q", "client_q", "cursor", "status", "next", "tab"} <= set(PARAMETERS)
    assert len(FIRM_ROUTES) > 50
    assert {name for name, _ in PORTAL_ROUTES} >= {"portal:home", "portal:documents"}


@pytest.mark.parametrize("route", _params(FIRM_ROUTES))
def test_a_firm_page_refuses_nul_in_its_query(cast, login_as, route):
    response = login_as(cast.alice).get(_with_nul(_fill(route, cast)))

    assert response.status_code == 400


@pytest.mark.parametrize("route", _params(PORTAL_ROUTES))
def test_a_portal_page_refuses_nul_in_its_query(cast, jane, client, route):
    joan = make_contact(jane, "Joan", "Doe", "joan@client.test")
    make_grant(joan, jane)
    portal_login(client, "alpha", make_portal_account("joan@client.test", "pw"))
    url = "/" + route.replace("<slug:org_slug>", "alpha")

    response = client.get(_with_nul(url))

    assert response.status_code == 400


@pytest.mark.parametrize("route", _params(ACCOUNT_ROUTES))
def test_an_account_page_refuses_nul_in_its_query(cast, client, route):
    response = client.get(_with_nul("/" + route))

    assert response.status_code == 400


def test_the_client_search_box_answers_400_not_500(cast, login_as):
    client = login_as(cast.alice)

    response = client.get("/o/alpha/clients/", {"q": NUL})

    assert response.status_code == 400
    assert b"could not read that request" in response.content
    # The same search without the NUL is an ordinary page.
    assert client.get("/o/alpha/clients/", {"q": "x-"}).status_code == 200


def test_the_document_searchs_client_picker_answers_400(cast, login_as):
    client = login_as(cast.alice)

    response = client.get("/o/alpha/documents/clients/", {"client_q": NUL})

    assert response.status_code == 400
    assert (
        client.get("/o/alpha/documents/clients/", {"client_q": "x"}).status_code == 200
    )


def test_a_nul_in_a_parameters_name_is_refused(cast, login_as):
    response = login_as(cast.alice).get("/o/alpha/clients/?q%00=x")

    assert response.status_code == 400


def test_a_forged_session_cookie_with_nul_is_refused(cast, client):
    # Python's cookie parser turns the quoted octal escape into a NUL, which the
    # session store would otherwise send to the session table.
    forged = 'sessionid="abcdefgh\\000ijkl"'

    response = client.get("/o/alpha/", HTTP_COOKIE=forged)

    assert response.status_code == 400


def test_a_posted_form_field_with_nul_is_refused(cast, client):
    # The portal's sign-in reads its fields raw; urlencoded as browsers post it.
    response = client.post(
        "/p/alpha/",
        "email=joan%40client.test%00&password=x",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 400


def test_a_multipart_form_field_with_nul_is_refused(cast, login_as):
    response = login_as(cast.alice).post(
        "/o/alpha/members/invite/", {"email": "new@alpha.test\x00", "role": "staff"}
    )

    assert response.status_code == 400


def test_an_upload_that_reads_its_own_body_is_left_to_it(
    cast, login_as, jane, settings, tmp_path
):
    """The upload pages install their handler before the body is read: the check
    must not parse a multipart body for them, or installing it would fail."""
    settings.MEDIA_ROOT = str(tmp_path)
    upload = SimpleUploadedFile("ledger.csv", LEDGER, content_type="text/csv")

    response = login_as(cast.alice).post(
        f"/o/alpha/clients/{jane.uuid}/documents/upload/",
        {"files": upload, "category": "other", "access_level": "standard"},
    )

    assert response.status_code == 302
    with tenant_context(cast.alpha):
        assert Document.objects.filter(client=jane).count() == 1


def test_the_error_page_is_not_kept_by_caches(cast, login_as):
    response = login_as(cast.alice).get("/o/alpha/clients/", {"q": NUL})

    assert response["Cache-Control"] == "private, no-store"


def test_a_page_without_nul_is_untouched(cast, client: HttpClient):
    assert client.get("/accounts/login/", {"next": "/o/alpha/"}).status_code == 200
