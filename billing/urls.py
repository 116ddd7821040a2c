"""The billing app's pages, under /o/<org-slug>/billing/."""

from __future__ import annotations

from django.urls import include, path

app_name = "billing"

urlpatterns = [
    path("", include("billing.urls_recurring")),
]
