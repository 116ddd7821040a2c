"""The client search index: words a client can be found by, as prefix-searchable tokens."""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.db.models import Q, QuerySet

from clients.models import Client, ClientContact, ClientSearchToken, ClientStatus
from clients.text import fold

MAX_TOKEN = 100
_WORD = re.compile(r"[a-z0-9]+")


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def client_tokens(client: Client, contacts: Iterable) -> set[str]:
    tokens: set[str] = set()
    for text in (client.display_name, client.legal_name):
        tokens.update(words(text))
    code = fold(client.client_code).strip()
    if code:
        tokens.add(code)
        tokens.update(words(code))
    if client.email:
        tokens.add(fold(client.email))
    if client.tax_id_last4:
        tokens.add(client.tax_id_last4)
    for contact in contacts:
        tokens.update(words(contact.first_name))
        tokens.update(words(contact.last_name))
        if contact.email:
            email = fold(contact.email)
            tokens.add(email)
            tokens.update(words(email.split("@")[0]))
    return {t[:MAX_TOKEN] for t in tokens if t}


def search_index_clients(client_ids: Iterable[int]) -> None:
    """Rebuild the tokens of these clients (call after a write that changes them)."""
    ids = list(client_ids)
    if not ids:
        return
    clients = list(Client.objects.filter(pk__in=ids))
    contacts_by_client: dict[int, list] = {c.pk: [] for c in clients}
    for link in ClientContact.objects.filter(client_id__in=ids).select_related(
        "contact"
    ):
        contacts_by_client[link.client_id].append(link.contact)
    ClientSearchToken.objects.filter(client_id__in=ids).delete()
    ClientSearchToken.objects.bulk_create(
        ClientSearchToken(
            organization_id=c.organization_id,
            client_id=c.pk,
            token=token,
            sort_name=c.sort_name,
            archived=c.status == ClientStatus.ARCHIVED,
        )
        for c in clients
        for token in client_tokens(c, contacts_by_client[c.pk])
    )


def prefix_range(term: str) -> tuple[str, str]:
    """[term, next) in C collation: every string that starts with `term`."""
    return term, term[:-1] + chr(ord(term[-1]) + 1)


def search_terms(query: str) -> list[str]:
    """The words of a search box, folded: an email or a code stays whole."""
    terms = []
    for raw in fold(query).split():
        raw = raw.strip(",;")
        if "@" in raw or "-" in raw:
            terms.append(raw[:MAX_TOKEN])
        else:
            terms.extend(w[:MAX_TOKEN] for w in _WORD.findall(raw))
    return [t for t in dict.fromkeys(terms) if t][:6]


def clients_matching(qs: QuerySet[Client], query: str) -> QuerySet[Client]:
    """Clients with, for every word typed, a token starting with it."""
    for term in search_terms(query):
        low, high = prefix_range(term)
        qs = qs.filter(
            pk__in=ClientSearchToken.objects.filter(
                Q(token__gte=low) & Q(token__lt=high)
            ).values("client_id")
        )
    return qs
