from __future__ import annotations

from django.apps import apps
from django.contrib import admin
from django.urls import include, path

from advisoros.accounts.views import home
from advisoros.audit.csp import csp_report
from advisoros.tenancy.branding import brand_css, brand_logo
from integrations.stripe.platform_views import platform_webhook

# Errors raised by middleware too: a database outage answers 503 (advisoros.outage).
handler500 = "advisoros.outage.server_error"

urlpatterns = [
    path("", home, name="home"),
    path("accounts/", include("advisoros.accounts.urls")),
    # Every firm page lives under /o/<org-slug>/: the tenancy middleware guards the prefix.
    path("o/<slug:org_slug>/", include("advisoros.tenancy.urls")),
    path("o/<slug:org_slug>/audit/", include("advisoros.audit.urls")),
    path("o/<slug:org_slug>/", include("clients.urls")),
    path("o/<slug:org_slug>/", include("documents.urls")),
    path("o/<slug:org_slug>/", include("workflows.urls")),
    path("o/<slug:org_slug>/", include("billing.urls")),
    path("o/<slug:org_slug>/reports/", include("reports.urls")),
    path("o/<slug:org_slug>/integrations/stripe/", include("integrations.stripe.urls")),
    path(
        "o/<slug:org_slug>/integrations/quickbooks/",
        include("integrations.quickbooks.urls"),
    ),
    # The owners' subscription buttons (AdvisorOS as a hosted service).
    path(
        "o/<slug:org_slug>/subscription/",
        include("integrations.stripe.platform_urls"),
    ),
    # A firm's look (public: the portal's sign-in page and emails show it).
    path("brand/<slug:org_slug>/style.css", brand_css, name="brand_css"),
    path("brand/<slug:org_slug>/logo", brand_logo, name="brand_logo"),
    # The client portal: its own sign-in and session (portal.middleware).
    path("p/<slug:org_slug>/", include("portal.urls")),
    path("o/<slug:org_slug>/portal/", include("portal.staff_urls")),
    # Each firm's Stripe events (integrations.stripe.webhooks): signed, no session.
    path("webhooks/stripe/", include("integrations.stripe.webhook_urls")),
    # Intuit's webhook (signed, no session) and OAuth redirect (the one address
    # registered at Intuit; it sends the browser on to the firm's own page).
    path("", include("integrations.quickbooks.public_urls")),
    path("admin/", admin.site.urls),
    # The platform's Stripe events about firms' subscriptions: signed, no session.
    path(
        "webhooks/stripe/platform/",
        platform_webhook,
        name="stripe_platform_webhook",
    ),
    # Content-Security-Policy violations, posted by browsers (settings.SECURE_CSP).
    path("csp-report/", csp_report, name="csp_report"),
]

# Development only (settings.BENCH): the benchmark's own pages, Django's floor.
if apps.is_installed("bench"):
    urlpatterns.append(path("__bench__/", include("bench.urls")))
