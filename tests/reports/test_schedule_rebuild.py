"""A trial balance replaced after its scheduled files were built: the files of
the periods that read it go stale, the next run builds them again once, the
PDF is shared again as a new version of the same document, and the statement
page says the file was rebuilt. The same figures again change nothing."""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.test import Client as HttpClient
from django.urls import reverse
from pypdf import PdfReader

from advisoros.tenancy.db import tenant_context
from documents.models import Document
from reports.models import OutputStatus, StatementOutput, StatementSchedule
from reports.outputs import output_storage, statement_schedules_build
from tests.factories import PASSWORD
from tests.portal.builders import (
    make_contact,
    make_grant,
    make_portal_account,
    portal_login,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]

NOV = date(2026, 11, 30)
DEC = date(2026, 12, 31)
JAN_4 = date(2027, 1, 4)
# Dec's trial balance, as the client's bookkeeper corrected it.
CORRECTED = {
    ("1000", "Operating account", "Bank"): "777777.77",
    ("3000", "Owner's capital", "Equity"): "-777777.77",
}


@pytest.fixture
def scheduled(cast, acme, books, django_capture_on_commit_callbacks):
    """Acme's Oct-Dec 2026 ledger, a monthly schedule from November sharing
    to the portal, and its first run (Nov and Dec built and shared)."""
    books(acme, 3)
    with tenant_context(cast.alpha):
        StatementSchedule.objects.create(
            organization=cast.alpha,
            client=acme,
            first_period_end=NOV,
            created_by=cast.sam,
        )
        with django_capture_on_commit_callbacks(execute=True):
            assert statement_schedules_build(organization=cast.alpha, today=JAN_4) == 2
    return acme


def _outputs(org) -> dict[tuple[int, str], StatementOutput]:
    with tenant_context(org):
        return {
            (o.period_end.month, o.format): o
            for o in StatementOutput.objects.select_related("document")
        }


def _run(cast, capture) -> int:
    with tenant_context(cast.alpha), capture(execute=True):
        return statement_schedules_build(organization=cast.alpha, today=JAN_4)


def test_a_replaced_month_is_rebuilt_once_and_shared_as_a_new_version(
    cast, login_as, scheduled, record, django_capture_on_commit_callbacks
):
    acme = scheduled
    make_grant(make_contact(acme, "Ann", "Acme", "ann@acme.test"), acme)
    ann = make_portal_account("ann@acme.test", PASSWORD)
    before = _outputs(cast.alpha)
    first_pdf = before[12, "pdf"]

    record(acme, DEC, CORRECTED)

    stale = {key for key, o in _outputs(cast.alpha).items() if o.stale}
    assert stale == {(12, "pdf"), (12, "xlsx")}  # November does not read December
    page = login_as(cast.sam).get(
        reverse(
            "reports:balance_sheet",
            kwargs={"org_slug": "alpha", "client_uuid": acme.uuid},
        ),
        {"end": "2026-12-31", "period": "month", "compare": "both"},
    )
    assert page.content.decode().count('data-testid="output-stale"') == 2

    rebuilt = _run(cast, django_capture_on_commit_callbacks)
    again = _run(cast, django_capture_on_commit_callbacks)

    assert (rebuilt, again) == (1, 0)
    after = _outputs(cast.alpha)
    pdf, xlsx = after[12, "pdf"], after[12, "xlsx"]
    for output in (pdf, xlsx):
        assert output.status == OutputStatus.READY
        assert not output.stale
        assert output.rebuilt_at is not None
    # The same rows (their links stay), new files; the old ones are gone.
    assert pdf.pk == first_pdf.pk
    assert pdf.file.name != first_pdf.file.name
    assert not output_storage().exists(first_pdf.file.name)
    assert not output_storage().exists(before[12, "xlsx"].file.name)
    with output_storage().open(pdf.file.name, "rb") as handle:
        text = "".join(
            p.extract_text() for p in PdfReader(io.BytesIO(handle.read())).pages
        )
    assert "777,777.77" in text
    # November is as it was.
    assert after[11, "pdf"].file.name == before[11, "pdf"].file.name
    assert after[11, "pdf"].rebuilt_at is None
    # The portal: the same document, a second version, the latest one shared.
    with tenant_context(cast.alpha):
        lineage = list(
            Document.objects.filter(
                title="Financial statements, December 2026"
            ).order_by("version")
        )
        shared = Document.objects.filter(
            visible_to_client=True, is_latest_version=True
        ).count()
    assert [(d.version, d.is_latest_version) for d in lineage] == [
        (1, False),
        (2, True),
    ]
    assert lineage[1].parent_document_id == first_pdf.document_id == lineage[0].pk
    assert pdf.document_id == lineage[1].pk
    assert shared == 2  # November's and December's, one each
    documents = portal_login(HttpClient(), "alpha", ann).get("/p/alpha/documents/")
    rows = documents.content.decode().split('data-testid="shared-documents"')[1]
    # The portal lists each version the firm shared (portal.selectors), the
    # newest first: the new one, marked as the second version.
    first_row = rows.split("</li>")[0]
    assert "<strong>Financial statements, December 2026</strong>" in first_row
    assert "version 2" in first_row
    # The statement page says the file was rebuilt.
    page = login_as(cast.sam).get(
        reverse(
            "reports:balance_sheet",
            kwargs={"org_slug": "alpha", "client_uuid": acme.uuid},
        ),
        {"end": "2026-12-31", "period": "month", "compare": "both"},
    )
    html = page.content.decode()
    assert html.count('data-testid="output-rebuilt"') == 2
    assert "after its trial balance was replaced" in html
    assert 'data-testid="output-stale"' not in html


def test_the_month_after_a_replaced_one_is_rebuilt_too(
    cast, scheduled, record, django_capture_on_commit_callbacks
):
    """December's profit and loss is YTD(Dec) - YTD(Nov), and its cash flow
    starts from November's balances: both change with November."""
    record(scheduled, NOV, CORRECTED)

    stale = {key for key, o in _outputs(cast.alpha).items() if o.stale}
    rebuilt = _run(cast, django_capture_on_commit_callbacks)

    assert stale == {(11, "pdf"), (11, "xlsx"), (12, "pdf"), (12, "xlsx")}
    assert rebuilt == 2
    assert not any(o.stale for o in _outputs(cast.alpha).values())


def test_the_same_figures_again_rebuild_nothing(
    cast, scheduled, django_capture_on_commit_callbacks
):
    """A QuickBooks pull records every month again: unchanged figures are not
    a replacement worth a new version in the client's portal."""
    from reports.demo import demo_trial_balances
    from reports.services import AccountData, BalanceRow, trial_balance_record

    day, rows = list(demo_trial_balances(last=DEC, months=3))[-1]
    with tenant_context(cast.alpha):
        trial_balance_record(
            client=scheduled,
            period_end=day,
            rows=[
                BalanceRow(AccountData(name, kind, number=n, subtype=sub), dr, cr)
                for n, name, kind, sub, dr, cr in rows
            ],
            source="qbo",
            raw={},
        )

    assert not any(o.stale for o in _outputs(cast.alpha).values())
    assert _run(cast, django_capture_on_commit_callbacks) == 0


def test_an_inactive_schedule_leaves_its_stale_files_marked(
    cast, login_as, scheduled, record, django_capture_on_commit_callbacks
):
    with tenant_context(cast.alpha):
        StatementSchedule.objects.update(is_active=False)
    record(scheduled, DEC, CORRECTED)

    assert _run(cast, django_capture_on_commit_callbacks) == 0
    page = login_as(cast.sam).get(
        reverse(
            "reports:schedule_edit",
            kwargs={"org_slug": "alpha", "client_uuid": scheduled.uuid},
        )
    )
    assert "Out of date" in page.content.decode()
    assert {k for k, o in _outputs(cast.alpha).items() if o.stale} == {
        (12, "pdf"),
        (12, "xlsx"),
    }
