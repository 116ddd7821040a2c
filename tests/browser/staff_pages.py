"""The staff pages that the browser walks (test_phone_layout.py for the fit on a
phone, test_staff_pages_accessible.py for WCAG 2.1 AA), one list for both.

Paths are under the firm's prefix (/o/<slug>/); the detail pages' paths depend on
each test's rows, so each test adds its own.
"""

from __future__ import annotations

# (path under /o/<slug>/, whether it lists rows in a table when the firm has work)
PAGES = [
    ("", True),
    ("clients/", True),
    ("engagements/", True),
    ("documents/?q=tax", True),
    ("documents/review/", False),
    ("documents/requests/", True),
    ("documents/retention/", False),
    ("documents/settings/", False),
    ("work/", True),
    ("work/board/", False),
    ("work/workload/", True),
    ("work/notifications/", False),
    ("jobs/failed/", False),
    ("workflows/", True),
    ("workflows/templates/", True),
    ("workflows/schedules/", True),
    ("workflows/start/", False),
    ("billing/recurring/", True),
    ("billing/recurring/new/", True),
    ("clients/new/", False),
    ("clients/import/", True),
    ("members/", True),
    ("settings/", False),
    ("audit/", True),
    ("audit/integrity/", False),
    ("safeguards/", False),
    # With the platform's billing off (as here) it leads to the dashboard; the
    # page itself is walked with billing on by test_subscription_browser.py.
    ("subscription/", False),
    ("data/", False),
    # The money reports (billing.views.reports); all time where the default
    # period might hold none of the firms' work early in a year.
    ("billing/reports/", True),
    ("billing/reports/ageing/", True),
    ("billing/reports/realization/?period=all", True),
    ("billing/reports/revenue/", True),
    ("billing/reports/budget/?period=all", True),
    # The demo firm (test_phone_layout.py walks it) has invoices.
    ("billing/invoices/", True),
    ("billing/invoices/new/", False),
    ("billing/settings/", False),
    ("billing/time/", False),
    ("billing/rates/", True),
    ("integrations/stripe/", False),
    ("integrations/quickbooks/", False),
    # Financial statements (reports.views): the clients with ledgers. A client's
    # ledger and statement pages are walked by each test with its own ledger.
    ("reports/", False),
    ("integrations/quickbooks/issues/", False),
]
# Every tab of a client's page (clients/tabs.py and the apps' registered tabs).
CLIENT_TABS = [
    "overview",
    "contacts",
    "engagements",
    "notes",
    "documents",
    "workflows",
    "messages",
    "invoices",
    "ledger",
    "timeline",
]
