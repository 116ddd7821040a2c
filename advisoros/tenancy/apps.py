from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate, post_save


class TenancyConfig(AppConfig):
    name = "advisoros.tenancy"
    label = "tenancy"
    verbose_name = "Firms"

    def ready(self) -> None:
        import advisoros.checks  # noqa: F401 (registers the deploy checks)
        from advisoros.tenancy.db import remember_firm
        from advisoros.tenancy.dbroles import after_migrate

        post_save.connect(
            remember_firm, sender=self.get_model("Organization"), dispatch_uid="firm_id"
        )
        post_migrate.connect(after_migrate, dispatch_uid="db_roles")
