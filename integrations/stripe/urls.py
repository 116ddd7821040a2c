"""The firm's Stripe pages, under /o/<org-slug>/integrations/stripe/."""

from __future__ import annotations

from django.urls import path

from integrations.stripe import views

app_name = "stripe"

urlpatterns = [
    path("", views.stripe_connection, name="connection"),
    path("disconnect/", views.stripe_disconnect, name="disconnect"),
    path(
        "payments/<uuid:payment_uuid>/refund/",
        views.stripe_payment_refund,
        name="payment_refund",
    ),
]
