from __future__ import annotations

from django.urls import path

from advisoros.tenancy import (
    export_views,
    jobs_views,
    safeguards_views,
    subscription_views,
    views,
)

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
    path("subscription/", subscription_views.subscription_page, name="subscription"),
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
    path("data/", export_views.firm_exports, name="exports"),
    path("data/export/", export_views.firm_export_create, name="export_create"),
    path(
        "data/exports/<uuid:export_uuid>/download/",
        export_views.firm_export_download,
        name="export_download",
    ),
    path("data/deactivate/", export_views.firm_deactivate_view, name="deactivate"),
    path("data/reactivate/", export_views.firm_reactivate_view, name="reactivate"),
    path(
        "data/deletion/",
        export_views.firm_deletion_schedule_view,
        name="deletion_schedule",
    ),
    path(
        "data/deletion/cancel/",
        export_views.firm_deletion_cancel_view,
        name="deletion_cancel",
    ),
]
