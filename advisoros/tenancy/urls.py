from __future__ import annotations

from django.urls import path

from advisoros.tenancy import jobs_views, safeguards_views, views

app_name = "tenancy"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("members/", views.members, name="members"),
    path("members/invite/", views.invitation_create, name="invitation_create"),
    path("members/<uuid:member_uuid>/role/", views.member_role, name="member_role"),
    path(
        "members/<uuid:member_uuid>/active/", views.member_active, name="member_active"
    ),
    path(
        "invitations/<uuid:invitation_uuid>/revoke/",
        views.invitation_revoke,
        name="invitation_revoke",
    ),
    path("settings/", views.firm_settings, name="settings"),
    path("safeguards/", safeguards_views.safeguards_page, name="safeguards"),
    path(
        "safeguards/access-review/",
        safeguards_views.access_review_create,
        name="access_review_create",
    ),
    path("jobs/failed/", jobs_views.job_failures, name="job_failures"),
    path(
        "jobs/failed/<uuid:failure_uuid>/retry/",
        jobs_views.job_failure_retry_view,
        name="job_failure_retry",
    ),
    path(
        "jobs/failed/<uuid:failure_uuid>/dismiss/",
        jobs_views.job_failure_dismiss_view,
        name="job_failure_dismiss",
    ),
]
