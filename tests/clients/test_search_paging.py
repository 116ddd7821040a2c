"""A one-word search pages from the search tokens: same rows, same cursors."""

from __future__ import annotations

import re
from html import unescape

from django.urls import reverse

from advisoros.tenancy.db import tenant_context
from clients.services.clients import client_archive, client_restore

URL = reverse("clients:client_list", args=["alpha"])


def _names_through_pages(http, params: dict) -> list[str]:
    names, response = [], http.get(URL, params)
    while True:
        names += [c.display_name for c in response.context["page"].rows]
        html = response.content.decode()
        link = re.search(r"<a\b[^>]*\brel=\"next\"[^>]*>", html)
        if not link:
            return names
        href = unescape(re.search(r"\bhref=\"([^\"]+)\"", link.group(0)).group(1))
        response = http.get(href)


def test_every_match_appears_once_in_name_order_across_pages(
    cast, login_as, make_clients
):
    smiths = make_clients(cast.alpha, 120, prefix="Smith")
    make_clients(cast.alpha, 30, prefix="Jones")
    with tenant_context(cast.alpha):
        client_archive(client=smiths[7])
    http = login_as(cast.alice)

    names = _names_through_pages(http, {"q": "smi"})

    expected = sorted(c.display_name for c in smiths if c is not smiths[7])
    assert names == expected  # 119, no repeats, no archived one, no Jones
    backwards = _names_through_pages(http, {"q": "smi", "sort": "-name"})
    assert backwards == expected[::-1]


def test_archiving_and_restoring_moves_a_client_in_and_out_of_search(
    cast, login_as, make_client
):
    client = make_client(cast.alpha, "Archie Smithson")
    http = login_as(cast.alice)
    with tenant_context(cast.alpha):
        client_archive(client=client)
    assert _names_through_pages(http, {"q": "smiths"}) == []
    assert _names_through_pages(http, {"q": "smiths", "status": "all"}) == [
        "Archie Smithson"
    ]
    assert _names_through_pages(http, {"q": "smiths", "status": "archived"}) == [
        "Archie Smithson"
    ]
    with tenant_context(cast.alpha):
        client_restore(client=client)
    assert _names_through_pages(http, {"q": "smiths"}) == ["Archie Smithson"]


def test_renaming_a_client_reorders_its_search_results(cast, login_as, make_client):
    from clients.services.clients import client_update

    a = make_client(cast.alpha, "Smith Alpha")
    make_client(cast.alpha, "Smith Beta")
    with tenant_context(cast.alpha):
        client_update(client=a, data={"display_name": "Smith Zulu"})
    http = login_as(cast.alice)
    assert _names_through_pages(http, {"q": "smith"}) == ["Smith Beta", "Smith Zulu"]


def test_assigned_only_staff_take_the_general_path_and_see_only_theirs(
    cast, login_as, make_client
):
    cast.alpha.assigned_clients_only = True
    cast.alpha.save(update_fields=["assigned_clients_only"])
    make_client(cast.alpha, "Smith Mine", staff=cast.sam)
    make_client(cast.alpha, "Smith Other")
    http = login_as(cast.sam)
    assert _names_through_pages(http, {"q": "smi"}) == ["Smith Mine"]
