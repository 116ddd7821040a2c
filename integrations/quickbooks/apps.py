from __future__ import annotations

from django.apps import AppConfig


class QuickBooksConfig(AppConfig):
    name = "integrations.quickbooks"
    label = "quickbooks"
    verbose_name = "QuickBooks Online"

    def ready(self) -> None:
        from integrations.quickbooks import panels

        panels.register()
