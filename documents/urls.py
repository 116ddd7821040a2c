"""The documents app's pages, under /o/<org-slug>/. Each views module owns its URLs."""

from __future__ import annotations

from documents.views import documents, requests, retention, review, search

app_name = "documents"

urlpatterns = [
    *documents.urlpatterns,
    *review.urlpatterns,
    *search.urlpatterns,
    *requests.urlpatterns,
    *retention.urlpatterns,
]
