"""The client page's Documents tab (registered from DocumentsConfig.ready)."""

from __future__ import annotations

from clients.tabs import register_client_tab


def documents_tab_context(request, client) -> dict:
    # Filled in by the documents views (grouped by year and category).
    from documents.views.documents import client_documents_context

    return client_documents_context(request, client)


register_client_tab(
    "documents",
    "Documents",
    context=documents_tab_context,
    template="documents/client_tab.html",
)
