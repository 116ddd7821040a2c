"""Statement workbooks: built by a job from the page's button, the same numbers
as the page (read back from the XLSX's own XML), one build for a double click,
served only to members who may see the client."""

from __future__ import annotations

import io
import re
import zipfile
from decimal import Decimal
from urllib.parse import urlencode
from xml.etree import ElementTree

import pytest
from django.urls import reverse

from advisoros.tenancy.db import tenant_context
from reports.models import OutputStatus, StatementOutput

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]

NS = {"x": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
QUERY = {"end": "2026-12-31", "period": "month", "compare": "both"}


def _page(client, name: str = "trial_balance") -> str:
    return reverse(
        f"reports:{name}", kwargs={"org_slug": "alpha", "client_uuid": client.uuid}
    )


def _build(http, client, capture, fmt: str, kind: str = "trial_balance"):
    url = reverse(
        "reports:output_create",
        kwargs={"org_slug": "alpha", "client_uuid": client.uuid},
    )
    with capture(execute=True):  # the job runs on commit (django-q2 sync mode)
        return http.post(url, {**QUERY, "kind": kind, "page": kind, "format": fmt})


def page_figures(html: str) -> list[list[str]]:
    """The statement table's figures, row by row, as the page prints them."""
    body = html.split('data-testid="statement"', 1)[1].split("</tbody>", 1)[0]
    rows = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S):
        cells = re.findall(r'<td class="num">(?:<strong>)?([^<]*)', row)
        if cells:
            rows.append(cells)
    return rows


def workbook_figures(data: bytes) -> list[list[str]]:
    """The first sheet's figures, row by row: numbers printed as the page
    prints them, text cells (a dash for no data) as they are."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        # Our own workbook, just written: not untrusted input.
        sheet = ElementTree.fromstring(archive.read("xl/worksheets/sheet1.xml"))  # noqa: S314
    rows = []
    for row in sheet.iterfind(".//x:sheetData/x:row", NS):
        cells = [c for c in row.iterfind("x:c", NS) if not c.get("r").startswith("A")]
        figures = []
        for cell in cells:
            if cell.get("t") == "inlineStr":
                figures.append(cell.findtext("x:is/x:t", namespaces=NS))
            else:
                value = Decimal(cell.findtext("x:v", namespaces=NS))
                figures.append(f"{value:,.2f}" if value else "0.00")
        numeric = any(c.get("t") != "inlineStr" for c in cells)
        if figures and (numeric or set(figures) == {"—"}):
            rows.append(figures)
    return rows


@pytest.mark.parametrize("kind", ["trial_balance", "cash_flow"])
def test_the_xlsx_holds_the_same_numbers_as_the_page(
    cast, login_as, acme, books, django_capture_on_commit_callbacks, kind
):
    books(acme, 14)
    http = login_as(cast.sam)

    answer = _build(http, acme, django_capture_on_commit_callbacks, "xlsx", kind)
    page = http.get(_page(acme, kind), QUERY)

    assert answer.status_code == 302
    with tenant_context(cast.alpha):
        output = StatementOutput.objects.get()
    assert output.status == OutputStatus.READY, output.error
    assert output.file.name == f"private/{cast.alpha.pk}/statements/{output.uuid}.xlsx"
    html = page.content.decode()
    link = reverse(
        "reports:output_download",
        kwargs={"org_slug": "alpha", "statement_output_uuid": output.uuid},
    )
    assert link in html
    download = http.get(link)
    assert download["Content-Type"].startswith("application/vnd.openxmlformats")
    assert download["Cache-Control"] == "private, no-store"
    figures = page_figures(html)
    assert len(figures) > 10
    assert workbook_figures(b"".join(download.streaming_content)) == figures


def test_a_double_click_builds_once(
    cast, login_as, acme, books, django_capture_on_commit_callbacks
):
    books(acme, 1)
    http = login_as(cast.sam)
    url = reverse(
        "reports:output_create", kwargs={"org_slug": "alpha", "client_uuid": acme.uuid}
    )
    form = {**QUERY, "kind": "profit_and_loss", "format": "xlsx"}

    with django_capture_on_commit_callbacks() as queued:  # the job not run yet
        http.post(url, form)
        second = http.post(url, form, follow=True)

    assert len(queued) == 1
    assert "already being built" in second.content.decode()
    with tenant_context(cast.alpha):
        output = StatementOutput.objects.get()
    assert output.status == OutputStatus.PENDING
    page = http.get(_page(acme, "profit_and_loss"), QUERY)
    assert 'data-testid="output-pending"' in page.content.decode()
    assert 'hx-trigger="every 2s"' in page.content.decode()
    # Its download is not there yet: the link leads back to the statement.
    link = reverse(
        "reports:output_download",
        kwargs={"org_slug": "alpha", "statement_output_uuid": output.uuid},
    )
    early = http.get(link)
    assert early.status_code == 302
    assert early.url == _page(acme, "profit_and_loss") + "?" + urlencode(QUERY)


def test_another_firm_and_a_hidden_client_get_404(
    cast, login_as, acme, books, django_capture_on_commit_callbacks
):
    from tests.factories import make_client

    books(acme, 1)
    other = make_client(cast.alpha, "Other Co")
    books(other, 1)
    _build(login_as(cast.alice), other, django_capture_on_commit_callbacks, "xlsx")
    with tenant_context(cast.alpha):
        output = StatementOutput.objects.get()
        cast.alpha.assigned_clients_only = True
        cast.alpha.save(update_fields=["assigned_clients_only"])
    link = reverse(
        "reports:output_download",
        kwargs={"org_slug": "alpha", "statement_output_uuid": output.uuid},
    )

    assert login_as(cast.alice).get(link).status_code == 200
    assert login_as(cast.sam).get(link).status_code == 404  # not Sam's client
    assert login_as(cast.oscar).get(link).status_code == 404
    assert (
        login_as(cast.oscar).get(link.replace("/alpha/", "/beta/")).status_code == 404
    )
