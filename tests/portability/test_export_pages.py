"""The firm's data page: owners start an export, download it through a link that
expires, and every step is audited. Other roles get 403 (other firms 404: the
leak sweep covers these URLs)."""

from __future__ import annotations

import time

from django.core import signing

from advisoros.audit.models import AuditAction, AuditEvent
from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.export_views import LINK_SALT, LINK_SECONDS
from advisoros.tenancy.models import FirmExport


def _built_export(cast, login_as, capture):
    client = login_as(cast.alice)
    with capture(execute=True):
        response = client.post("/o/alpha/data/export/")
    assert response.status_code == 302
    with tenant_context(cast.alpha):
        return FirmExport.objects.get(organization=cast.alpha)


def _download_url(client) -> str:
    page = client.get("/o/alpha/data/")
    (export,) = [e for e in page.context["exports"] if e.status == "ready"]
    return export.download_url


def test_the_settings_page_links_owners_to_the_data_page(cast, login_as):
    page = login_as(cast.alice).get("/o/alpha/settings/").content.decode()

    assert 'href="/o/alpha/data/"' in page


def test_an_owner_builds_an_export_in_a_job_and_downloads_the_zip(
    cast, login_as, django_capture_on_commit_callbacks
):
    export = _built_export(cast, login_as, django_capture_on_commit_callbacks)
    client = login_as(cast.alice)

    assert export.status == FirmExport.Status.READY
    assert export.size > 0 and len(export.sha256) == 64
    assert export.file.name == f"private/{cast.alpha.pk}/exports/{export.uuid}.zip"
    response = client.get(_download_url(client))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Cache-Control"] == "private, no-store"
    assert "attachment" in response["Content-Disposition"]
    body = b"".join(response.streaming_content)
    assert body[:2] == b"PK" and len(body) == export.size
    with tenant_context(cast.alpha):
        actions = list(
            AuditEvent.objects.filter(organization=cast.alpha)
            .order_by("pk")
            .values_list("action", "actor__email")
        )
    assert (AuditAction.FIRM_EXPORTED, "alice@alpha.test") in actions
    assert actions[-1] == (AuditAction.FIRM_EXPORT_DOWNLOADED, "alice@alpha.test")


class _SignerSixteenMinutesAgo(signing.TimestampSigner):
    def timestamp(self) -> str:
        return signing.b62_encode(int(time.time()) - LINK_SECONDS - 60)


def test_a_download_link_expires_after_fifteen_minutes(
    cast, login_as, django_capture_on_commit_callbacks
):
    export = _built_export(cast, login_as, django_capture_on_commit_callbacks)
    client = login_as(cast.alice)
    old = _SignerSixteenMinutesAgo(salt=LINK_SALT).sign_object(
        {"e": str(export.uuid), "u": cast.alice.pk}
    )
    assert _download_url(client).split("?t=")[0] == (
        f"/o/alpha/data/exports/{export.uuid}/download/"
    )

    response = client.get(f"/o/alpha/data/exports/{export.uuid}/download/?t={old}")

    assert response.status_code == 302
    assert response.url == "/o/alpha/data/"
    with tenant_context(cast.alpha):
        assert not AuditEvent.objects.filter(
            action=AuditAction.FIRM_EXPORT_DOWNLOADED
        ).exists()


def test_a_link_made_for_one_owner_does_not_work_for_another(
    cast, login_as, django_capture_on_commit_callbacks
):
    from advisoros.tenancy.models import Role
    from tests.factories import make_member

    other = make_member(cast.alpha, "Olga Owner", Role.OWNER)
    _built_export(cast, login_as, django_capture_on_commit_callbacks)
    url = _download_url(login_as(cast.alice))

    response = login_as(other).get(url)

    assert response.status_code == 302


def test_a_tampered_token_is_refused(
    cast, login_as, django_capture_on_commit_callbacks
):
    _built_export(cast, login_as, django_capture_on_commit_callbacks)
    client = login_as(cast.alice)
    url = _download_url(client)

    response = client.get(url[:-3] + "abc")

    assert response.status_code == 302


def test_admins_and_others_cannot_open_the_page_or_export(cast, login_as):
    for member in (cast.adam, cast.mia, cast.sam):
        client = login_as(member)
        assert client.get("/o/alpha/data/").status_code == 403
        assert client.post("/o/alpha/data/export/").status_code == 403
    with tenant_context(cast.alpha):
        assert not FirmExport.objects.exists()


def test_an_admin_cannot_download_even_with_an_owners_link(
    cast, login_as, django_capture_on_commit_callbacks
):
    _built_export(cast, login_as, django_capture_on_commit_callbacks)
    url = _download_url(login_as(cast.alice))

    assert login_as(cast.adam).get(url).status_code == 403


def test_the_list_makes_the_same_number_of_queries_for_1_or_30_exports(
    cast, login_as, django_assert_num_queries
):
    client = login_as(cast.alice)
    url = "/o/alpha/data/"
    client.get(url)  # the first request also writes the session
    for count in (1, 29):
        with tenant_context(cast.alpha):
            FirmExport.objects.bulk_create(
                FirmExport(
                    organization=cast.alpha,
                    created_by=cast.alice,
                    status=FirmExport.Status.READY,
                    file=f"private/{cast.alpha.pk}/exports/x.zip",
                    size=10,
                )
                for _ in range(count)
            )
        # 1 session, 2 user, 3 the firm, entered in its RLS context, 4 the member's
        # firms, 5 the newest exports with who made each, 6 reset the RLS context.
        with django_assert_num_queries(6):
            response = client.get(url)
        assert response.status_code == 200
    assert len(response.context["exports"]) == 30
    assert response.content.decode().count('data-testid="export-download"') == 30
