"""Staff pages about portal access (namespace portal_staff, under /o/<org-slug>/portal/)."""

from __future__ import annotations

from django.urls import path

from portal.views import staff_access

urlpatterns = [
    path(
        "contacts/<uuid:contact_uuid>/",
        staff_access.contact_access,
        name="contact_access",
    ),
    path(
        "contacts/<uuid:contact_uuid>/invite/",
        staff_access.contact_invite,
        name="contact_invite",
    ),
    path(
        "contacts/<uuid:contact_uuid>/clients/<uuid:client_uuid>/grant/",
        staff_access.grant_set,
        name="grant_set",
    ),
    path(
        "contacts/<uuid:contact_uuid>/clients/<uuid:client_uuid>/revoke/",
        staff_access.grant_revoke,
        name="grant_revoke",
    ),
    path(
        "requests/<uuid:request_uuid>/links/email/",
        staff_access.request_link_email,
        name="request_link_email",
    ),
    path(
        "requests/<uuid:request_uuid>/links/copy/",
        staff_access.request_link_copy,
        name="request_link_copy",
    ),
    path(
        "requests/<uuid:request_uuid>/links/revoke/",
        staff_access.request_links_revoke_all,
        name="request_links_revoke",
    ),
]
