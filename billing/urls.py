"""The billing app's pages, under /o/<org-slug>/. Each views module owns its URLs."""

from __future__ import annotations

from billing.views import reports

app_name = "billing"

urlpatterns = [
    *reports.urlpatterns,
]
