from __future__ import annotations

from django.contrib.admin.apps import AdminConfig


class AdvisorAdminConfig(AdminConfig):
    default_site = "advisoros.admin_site.AdvisorAdminSite"
