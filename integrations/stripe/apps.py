from __future__ import annotations

from django.apps import AppConfig


class StripeIntegrationConfig(AppConfig):
    name = "integrations.stripe"
    label = "stripe_integration"
    verbose_name = "Stripe"

    def ready(self) -> None:
        from integrations.stripe import panels, platform_panels

        panels.register()
        platform_panels.register()
