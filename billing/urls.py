"""The billing app's pages, under /o/<org-slug>/billing/. Each part owns its URLs."""

from __future__ import annotations

from django.urls import include, path

from billing.views import reports

app_name = "billing"

urlpatterns = [
    path("", include("billing.urls_recurring")),
    *reports.urlpatterns,
]
