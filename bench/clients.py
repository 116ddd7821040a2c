"""The clients' part of `make bench` (see bench/harness.py): the data and the pages.

Every client page of issue 3 at 1,000 and 100,000 clients: the list (first
page, a deep keyset page, a surname search, a contact-email search, a filter),
the client page and the engagement list.
"""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import urlencode

from django.urls import reverse

from bench.clients_seed import seed_clients
from bench.harness import BenchFirm, register_bench_seeder, register_scenario
from clients.models import Client, ClientStatus, Contact, EntityType
from clients.selectors import PAGE_SIZE
from clients.services.clients import client_update
from clients.services.search import clients_matching

DEEP_PAGES = 480  # 50 a page: depth 24,000
_NEXT_LINK = re.compile(r"<a\b[^>]*\brel=\"next\"[^>]*>")
_HREF = re.compile(r"\bhref=\"([^\"]+)\"")


@register_bench_seeder
def seed(*, firm: BenchFirm, stdout) -> None:
    result = seed_clients(
        organization=firm.organization, clients=firm.size, stdout=stdout
    )
    if result.clients:
        stdout.write(
            f"{firm.organization.slug}: {result.clients:,} clients seeded"
            f" in {result.seconds:.1f} s"
        )
    renamed = surname_page_fill(firm)
    if renamed:
        stdout.write(
            f"{firm.organization.slug}: {renamed} clients renamed Smith, so the"
            f" surname search has a full page"
        )


SURNAME_QUERY = "smi"


def surname_page_fill(firm: BenchFirm) -> int:
    """Give the surname search a full page (and one more row, so it has a "Next"
    link) in every bench firm, renaming individual clients Smith through the
    client service (sort name and search tokens follow); return how many.

    The 100k/1k ratio should compare the same page at two sizes of firm, as My
    work's does (bench.workflows.owner_page_fill): "smi" found 17 clients in
    bench-1k against a full page of 50 in bench-100k, so the ratio measured
    rows, not scale."""
    wanted = PAGE_SIZE + 1
    clients = Client.objects.filter(organization=firm.organization)
    found = clients_matching(clients, SURNAME_QUERY)
    have = found.count()
    if have >= wanted:
        return 0
    others = list(
        clients.filter(entity_type=EntityType.INDIVIDUAL)
        .exclude(pk__in=found.values("pk"))
        .order_by("pk")[: wanted - have]
    )
    for client in others:
        first = client.display_name.split()[0]
        client_update(client=client, data={"display_name": f"{first} Smith"})
    return len(others)


def _client_list(firm: BenchFirm, query: str = "") -> str:
    url = reverse("clients:client_list", args=[firm.organization.slug])
    return f"{url}?{query}" if query else url


@register_scenario("client_list_first_page")
def client_list_first_page(firm: BenchFirm) -> str:
    return _client_list(firm)


@register_scenario("client_list_deep_page")
def client_list_deep_page(firm: BenchFirm) -> str:
    """Follow the "Next" link 480 pages deep, or to the last page of a small firm."""
    path = _client_list(firm)
    for _ in range(DEEP_PAGES):
        html = firm.http.get(path).content.decode()
        link = _NEXT_LINK.search(html)
        if link is None:
            break
        path = unescape(_HREF.search(link.group(0)).group(1))
    return path


@register_scenario("client_search_surname")
def client_search_surname(firm: BenchFirm) -> str:
    return _client_list(firm, f"q={SURNAME_QUERY}")


@register_scenario("client_search_email")
def client_search_email(firm: BenchFirm) -> str:
    """The email of a contact in the middle of the firm (of a client the list shows)."""
    contacts = (
        Contact.objects.exclude(email="")
        .filter(client_contacts__client__status=ClientStatus.ACTIVE)
        .order_by("pk")
    )
    email = contacts[contacts.count() // 2].email
    return _client_list(firm, urlencode({"q": email}))


@register_scenario("client_list_filtered")
def client_list_filtered(firm: BenchFirm) -> str:
    return _client_list(firm, f"status=active&entity_type={EntityType.LLC}")


def _middle_client(firm: BenchFirm) -> Client:
    """A client in the middle of the firm, with contacts, engagements and notes."""
    active = Client.objects.filter(status=ClientStatus.ACTIVE).order_by("pk")
    return active[active.count() // 2]


@register_scenario("client_page")
def client_page(firm: BenchFirm) -> str:
    client = _middle_client(firm)
    url = reverse("clients:client_detail", args=[firm.organization.slug, client.uuid])
    return f"{url}?tab=overview"


@register_scenario("client_recent_activity")
def client_recent_activity(firm: BenchFirm) -> str:
    """The overview's recent activity, which the page asks for once it is shown."""
    client = _middle_client(firm)
    return reverse(
        "clients:client_activity", args=[firm.organization.slug, client.uuid]
    )


@register_scenario("client_timeline")
def client_timeline(firm: BenchFirm) -> str:
    client = _middle_client(firm)
    url = reverse("clients:client_detail", args=[firm.organization.slug, client.uuid])
    return f"{url}?tab=timeline"


@register_scenario("engagement_list")
def engagement_list(firm: BenchFirm) -> str:
    return reverse("clients:engagement_list", args=[firm.organization.slug])
