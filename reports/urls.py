"""The financial reports' pages, under /o/<org-slug>/reports/."""

from __future__ import annotations

from reports import output_views, views

app_name = "reports"

urlpatterns = views.urlpatterns + output_views.urlpatterns
