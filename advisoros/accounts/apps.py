from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "advisoros.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from advisoros.accounts import signals  # noqa: F401
