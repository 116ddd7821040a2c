"""Statement file downloads: each one in the firm's audit trail (who, which
client's file, which period, from which address), as document downloads are;
nothing recorded for a refused or missing file."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from advisoros.audit.models import AuditAction, AuditEvent
from advisoros.tenancy.db import platform_bypass, tenant_context
from reports.models import OutputStatus, StatementOutput
from reports.outputs import output_storage, statement_output_build

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]

DEC = date(2026, 12, 31)


def _ready_output(cast, client, record, fmt: str = "xlsx") -> StatementOutput:
    record(
        client,
        DEC,
        {("1000", "Checking", "Bank"): 10, ("4000", "Sales", "Income"): -10},
    )
    with tenant_context(cast.alpha):
        output = StatementOutput.objects.create(
            organization=cast.alpha,
            client=client,
            kind="profit_and_loss",
            period_end=DEC,
            format=fmt,
            created_by=cast.sam,
        )
        output = statement_output_build(output=output)
    assert output.status == OutputStatus.READY, output.error
    return output


def _download(http, output, org_slug: str = "alpha"):
    return http.get(
        reverse(
            "reports:output_download",
            kwargs={"org_slug": org_slug, "statement_output_uuid": output.uuid},
        ),
        REMOTE_ADDR="203.0.113.9",
    )


def _events(org) -> list[AuditEvent]:
    with platform_bypass():
        return list(
            AuditEvent.objects.filter(
                organization=org, action=AuditAction.STATEMENT_DOWNLOADED
            ).order_by("pk")
        )


def test_a_download_is_recorded_with_who_what_and_where(cast, login_as, acme, record):
    output = _ready_output(cast, acme, record)
    http = login_as(cast.rita)  # read-only members may download: recorded too

    response = _download(http, output)

    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"PK")  # a workbook
    (event,) = _events(cast.alpha)
    assert event.actor == cast.rita
    assert event.ip_address == "203.0.113.9"
    assert event.target == "Profit and loss 2026-12.xlsx (Acme Trading)"
    assert event.detail == {
        "output": str(output.uuid),
        "client": str(acme.uuid),
        "kind": "profit_and_loss",
        "format": "xlsx",
        "period_end": "2026-12-31",
        "period": "month",
        "compare": "both",
        "scheduled": False,
    }
    assert event.hash  # in the firm's chain


def test_each_download_is_a_row_of_its_own(cast, login_as, acme, record):
    output = _ready_output(cast, acme, record)
    http = login_as(cast.sam)

    _download(http, output)
    _download(http, output)

    assert [e.actor for e in _events(cast.alpha)] == [cast.sam, cast.sam]


def test_another_firm_gets_404_and_nothing_is_recorded(cast, login_as, acme, record):
    output = _ready_output(cast, acme, record)
    http = login_as(cast.oscar)

    assert _download(http, output, org_slug="beta").status_code == 404
    assert _download(http, output).status_code == 404
    assert _events(cast.alpha) == []
    assert _events(cast.beta) == []


def test_a_file_that_is_gone_sends_back_to_the_statement_unrecorded(
    cast, login_as, acme, record
):
    output = _ready_output(cast, acme, record)
    output_storage().delete(output.file.name)
    http = login_as(cast.sam)

    response = _download(http, output)

    assert response.status_code == 302
    assert f"/clients/{acme.uuid}/profit-and-loss/" in response["Location"]
    assert _events(cast.alpha) == []


def test_a_second_run_of_the_build_job_keeps_the_first_file_only(
    cast, acme, record, media
):
    """A retry that starts while the first run still draws finds the row
    pending too: the first to finish marks it ready, the other keeps nothing."""
    record(
        acme, DEC, {("1000", "Checking", "Bank"): 10, ("4000", "Sales", "Income"): -10}
    )
    with tenant_context(cast.alpha):
        output = StatementOutput.objects.create(
            organization=cast.alpha,
            client=acme,
            kind="profit_and_loss",
            period_end=DEC,
            format="xlsx",
        )
        late = StatementOutput.objects.get(pk=output.pk)  # loaded while pending

        first = statement_output_build(output=output)
        second = statement_output_build(output=late)

    assert first.status == second.status == OutputStatus.READY
    assert second.file.name == first.file.name
    stored = sorted(p.name for p in (media / "private").rglob("*.xlsx"))
    assert stored == [first.file.name.rsplit("/", 1)[-1]]
