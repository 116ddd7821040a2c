"""Recurring invoices (billing.views.recurring), under /o/<org-slug>/."""

from __future__ import annotations

from django.urls import path

from billing.views import recurring

urlpatterns: list = [
    path("billing/recurring/", recurring.recurring_list, name="recurring_list"),
    path("billing/recurring/new/", recurring.recurring_choose, name="recurring_choose"),
    path(
        "billing/recurring/new/<uuid:engagement_uuid>/",
        recurring.recurring_create,
        name="recurring_create",
    ),
    path(
        "billing/recurring/<uuid:recurring_uuid>/",
        recurring.recurring_edit,
        name="recurring_edit",
    ),
    path(
        "billing/recurring/<uuid:recurring_uuid>/active/",
        recurring.recurring_active,
        name="recurring_active",
    ),
    path(
        "billing/recurring/<uuid:recurring_uuid>/end/",
        recurring.recurring_end,
        name="recurring_end",
    ),
    path(
        "billing/recurring/engagement/<uuid:engagement_uuid>/",
        recurring.engagement_recurring,
        name="engagement_recurring",
    ),
]
