from __future__ import annotations

from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "advisoros.tenancy"
    label = "tenancy"
    verbose_name = "Firms"
