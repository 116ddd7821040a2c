"""The billing app's pages, under /o/<org-slug>/billing/. Each views module owns
its URLs."""

from __future__ import annotations

from billing.views import budgets, rates, time, timer

app_name = "billing"

urlpatterns = [
    *time.urlpatterns,
    *timer.urlpatterns,
    *rates.urlpatterns,
    *budgets.urlpatterns,
]
