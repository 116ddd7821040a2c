from __future__ import annotations

urlpatterns: list = []


def client_documents_context(request, client) -> dict:
    return {"document_groups": []}
