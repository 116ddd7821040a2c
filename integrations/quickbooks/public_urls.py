"""QuickBooks addresses outside any firm: Intuit's webhook (signed, no session)
and the OAuth redirect registered at Intuit (settings.INTUIT_REDIRECT_URI),
which sends the browser on to the firm's own callback page."""

from __future__ import annotations

from django.urls import path

from integrations.quickbooks import views

app_name = "quickbooks_public"

urlpatterns = [
    path("webhooks/quickbooks/", views.quickbooks_webhook, name="webhook"),
    path(
        "integrations/quickbooks/callback/",
        views.quickbooks_oauth_return,
        name="oauth_return",
    ),
]
