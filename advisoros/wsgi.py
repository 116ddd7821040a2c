"""WSGI entry point for AdvisorOS: the site, and providers' webhooks through a
short middleware chain of their own (advisoros.webhook_wsgi)."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "advisoros.settings")

site = get_wsgi_application()  # sets Django up

from advisoros.webhook_wsgi import site_with_webhooks  # noqa: E402 (after set-up)

application = site_with_webhooks(site)
