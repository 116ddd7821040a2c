from __future__ import annotations

from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    label = "portal"
    verbose_name = "Client portal"

    def ready(self) -> None:
        from portal import (  # noqa: F401  (registrations)
            demo,
            hooks,
            hooks_access,
            hooks_dashboard,
            hooks_export,
            hooks_invoices,
            hooks_letters,
            hooks_messages,
        )
