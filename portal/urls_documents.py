"""Shared documents in the portal (portal.views.documents)."""

from __future__ import annotations

from django.urls import path

from portal.views import documents

urlpatterns: list = [
    path("documents/", documents.document_list, name="documents"),
    path(
        "documents/<uuid:document_uuid>/",
        documents.document_detail,
        name="document_detail",
    ),
    path(
        "documents/<uuid:document_uuid>/download/",
        documents.document_download,
        name="document_download",
    ),
    path(
        "documents/<uuid:document_uuid>/view/",
        documents.document_view,
        name="document_view",
    ),
]
