from __future__ import annotations

from django.apps import apps
from django.contrib import admin
from django.urls import include, path

from advisoros.accounts.views import home

urlpatterns = [
    path("", home, name="home"),
    path("accounts/", include("advisoros.accounts.urls")),
    # Every firm page lives under /o/<org-slug>/: the tenancy middleware guards the prefix.
    path("o/<slug:org_slug>/", include("advisoros.tenancy.urls")),
    path("o/<slug:org_slug>/audit/", include("advisoros.audit.urls")),
    path("o/<slug:org_slug>/", include("clients.urls")),
    path("o/<slug:org_slug>/", include("documents.urls")),
    path("o/<slug:org_slug>/", include("workflows.urls")),
    path("admin/", admin.site.urls),
]

# Development only (settings.BENCH): the benchmark's own pages, Django's floor.
if apps.is_installed("bench"):
    urlpatterns.append(path("__bench__/", include("bench.urls")))
