"""The tenancy app's navigation entries (advisoros/nav.py collects them)."""

from __future__ import annotations

from advisoros.nav import NavEntry
from advisoros.tenancy.plans import platform_billing_on

NAV = [
    NavEntry("dashboard", "Dashboard", "tenancy:dashboard", order=0),
    NavEntry("members", "Members", "tenancy:members", order=10, section="settings"),
    NavEntry(
        "firm_settings",
        "Firm settings",
        "tenancy:settings",
        order=20,
        section="settings",
        admin_only=True,
    ),
    NavEntry(
        "safeguards",
        "Safeguards",
        "tenancy:safeguards",
        order=25,
        section="settings",
        owner_only=True,
        # The page and its access-review button.
        current=lambda name: name in ("safeguards", "access_review_create"),
    ),
    NavEntry(
        "subscription",
        "Subscription",
        "tenancy:subscription",
        order=27,
        section="settings",
        owner_only=True,
        # Only where AdvisorOS is sold as a hosted service (advisoros.tenancy.plans).
        enabled=platform_billing_on,
    ),
    NavEntry(
        "failed_jobs",
        "Failed jobs",
        "tenancy:job_failures",
        order=50,
        section="settings",
        admin_only=True,
        # The list and its retry and dismiss actions.
        current=lambda name: name.startswith("job_failure"),
    ),
]
