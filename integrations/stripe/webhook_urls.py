"""Where Stripe posts a firm's events: /webhooks/stripe/<webhook_token>/ (no
session, no CSRF: the signature is the check)."""

from __future__ import annotations

from django.urls import path

from integrations.stripe import views

app_name = "stripe_webhooks"

urlpatterns = [
    path("<uuid:webhook_token>/", views.stripe_webhook, name="receive"),
]
