from __future__ import annotations

from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    label = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        from billing import (  # noqa: F401  (registrations)
            client_tab,
            demo,
            panels,
            panels_dashboard,
            panels_recurring,
            receivers,
            timeline_sources,
        )

        receivers.connect()
