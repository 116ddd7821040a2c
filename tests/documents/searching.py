"""Running the documents search as a member of Alpha, for the search tests."""

from __future__ import annotations

from advisoros.tenancy.db import tenant_context
from documents.search import document_search


def search(cast, user, query="", **kwargs):
    """document_search as `user`, a member of Alpha, in Alpha's context."""
    membership = cast.membership(user, cast.alpha)
    with tenant_context(cast.alpha):
        return document_search(membership=membership, query=query, **kwargs)


def titles(page) -> list[str]:
    return [d.title for d in page.rows]
