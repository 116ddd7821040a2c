"""The owners' subscription buttons, under /o/<org-slug>/subscription/
(integrations.stripe.platform_views)."""

from __future__ import annotations

from django.urls import path

from integrations.stripe import platform_views

app_name = "subscription"

urlpatterns = [
    path("checkout/", platform_views.checkout_start, name="checkout"),
    path("checkout/done/", platform_views.checkout_done, name="checkout_done"),
    path("change/", platform_views.plan_change, name="change"),
    path("billing/", platform_views.billing_portal, name="portal"),
]
