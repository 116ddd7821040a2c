"""The billing app's pages, under /o/<org-slug>/billing/. Each views module owns
its URLs."""

from __future__ import annotations

from django.urls import include, path

from billing.views import (
    billing_settings,
    budgets,
    invoice_actions,
    invoice_drafts,
    invoices,
    rates,
    reports,
    time,
    timer,
)

app_name = "billing"

urlpatterns = [
    *invoices.urlpatterns,
    *invoice_drafts.urlpatterns,
    *invoice_actions.urlpatterns,
    *billing_settings.urlpatterns,
    path("", include("billing.urls_recurring")),
    *reports.urlpatterns,
    *time.urlpatterns,
    *timer.urlpatterns,
    *rates.urlpatterns,
    *budgets.urlpatterns,
]
