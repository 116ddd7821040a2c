"""Staff pages about the portal, under /o/<org-slug>/portal/ (tenancy middleware)."""

from __future__ import annotations

from django.urls import include, path

app_name = "portal_staff"

urlpatterns = [
    path("", include("portal.staff_urls_access")),
    path("", include("portal.staff_urls_messages")),
    path("", include("portal.staff_urls_letters")),
]
