"""The firm dashboard: the firm's own figures, and every app's panels (slot
"dashboard"): open work by person, due this week, billed and collected by
month, receivables, work in progress, documents to review, requests
outstanding and recent portal activity."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from xml.etree import ElementTree

import pytest
from django.utils import timezone

from advisoros.tenancy.clock import firm_today
from advisoros.tenancy.db import platform_bypass, tenant_context
from advisoros.tenancy.models import Invitation, Role
from billing.reports.period import add_months
from documents.models import DocumentRequest, DocumentRequestItem
from portal.models import Activity, PortalActivity
from tests.factories import (
    make_client,
    make_document,
    make_invoices,
    make_member,
    write_invoice,
    write_payment,
    write_time_entry,
)
from tests.workflows.pages import make_task, make_tasks

URL = "/o/alpha/"
D = Decimal


def _section(html: str, testid: str) -> str:
    """The dashboard panel marked data-testid=`testid`."""
    return html.split(f'data-testid="{testid}"', 1)[1].split("</section>", 1)[0]


def _figures(html: str, testid: str) -> dict[str, str]:
    """A panel's figures: {label: value as shown}."""
    pairs = re.findall(
        r"<dt>(.*?)</dt><dd>(.*?)</dd>", _section(html, testid), flags=re.S
    )
    return {label: re.sub(r"<[^>]+>", "", value).strip() for label, value in pairs}


def _chart_rows(html: str, chart_id: str) -> dict[str, list[str]]:
    """A chart's table view: {row heading: [cells]}."""
    figure = html.split(f'id="{chart_id}"', 1)[1].split("</figure>", 1)[0]
    body = figure.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return {
        heading: re.findall(r'<td class="num">([^<]*)</td>', cells)
        for heading, cells in re.findall(
            r'<tr><th scope="row">([^<]*)</th>(.*?)</tr>', body
        )
    }


def _add_request(client, *, items=(), status="open"):
    """A document request of `client` with items of (status, due date)."""
    with tenant_context(client.organization):
        request = DocumentRequest.objects.create(
            organization=client.organization,
            client=client,
            title="Tax documents",
            status=status,
        )
        DocumentRequestItem.objects.bulk_create(
            DocumentRequestItem(
                organization=client.organization,
                request=request,
                position=i,
                title=f"Item {i}",
                status=item_status,
                due_date=due,
            )
            for i, (item_status, due) in enumerate(items)
        )
    return request


def _add_activity(organization, action, *, client=None, email="jo@client.test", **kw):
    with tenant_context(organization):
        return PortalActivity.objects.create(
            organization=organization, action=action, client=client, email=email, **kw
        )


# The firm's own figures ---------------------------------------------------------------


def test_it_counts_members_and_only_invitations_still_open(cast, client):
    with tenant_context(cast.alpha):
        Invitation.objects.create(
            organization=cast.alpha,
            email="late@alpha.test",
            expires_at=timezone.now() - timedelta(days=1),
        )
    client.force_login(cast.sam)
    response = client.get(URL)
    assert response.status_code == 200
    assert response.context["member_count"] == 5
    assert response.context["open_invitations"] == 1


def test_security_activity_is_shown_to_admins_only(cast, client):
    client.force_login(cast.sam)
    assert client.get(URL).context["recent_events"] == []
    client.force_login(cast.adam)
    response = client.get(URL)
    assert b"Recent security activity" in response.content


def test_your_work_shows_the_buttons_each_app_declares(cast, login_as):
    html = login_as(cast.sam).get(URL).content.decode()

    panel = html.split("<h2>Your work</h2>")[1].split("</div>")[0]
    assert re.findall(r'<a class="([^"]+)" href="([^"]+)">([^<]+)</a>', panel) == [
        ("btn btn-primary", "/o/alpha/work/", "My work"),
        ("btn", "/o/alpha/work/board/", "Board"),
        ("btn", "/o/alpha/clients/", "Clients"),
        ("btn", "/o/alpha/engagements/?mine=1", "My engagements"),
        ("btn", "/o/alpha/engagements/?status=overdue", "Overdue engagements"),
        ("btn", "/o/alpha/documents/review/", "Documents to review"),
        ("btn", "/o/alpha/documents/requests/", "Document requests"),
    ]


# A new firm ---------------------------------------------------------------------------


def test_a_new_firm_sees_what_each_panel_will_show(cast, login_as):
    html = login_as(cast.alice).get(URL).content.decode()

    for testid in (
        "dash-work-empty",
        "dash-due-empty",
        "dash-billed-empty",
        "dash-ar-empty",
        "dash-wip-empty",
        "dash-review-empty",
        "dash-requests-empty",
        "dash-activity-empty",
    ):
        assert f'data-testid="{testid}"' in html, testid
    assert "<svg" not in html.split('data-testid="dash-grid"')[1]
    # The owner may start the work and bill it.
    assert 'href="/o/alpha/workflows/start/"' in html
    assert 'href="/o/alpha/billing/invoices/new/"' in html


def test_the_panels_come_in_the_layer_order(cast, login_as):
    html = login_as(cast.alice).get(URL).content.decode()

    order = re.findall(
        r'<section class="panel dash-panel[^"]*"[^>]*data-testid="([^"]+)"', html
    )
    assert order == [
        "dash-review",
        "dash-work",
        "dash-due",
        "dash-billed",
        "dash-ar",
        "dash-wip",
        "dash-requests",
        "dash-activity",
    ]


# Work ---------------------------------------------------------------------------------


def test_open_and_overdue_work_is_counted_per_person(cast, login_as):
    today = firm_today(cast.alpha)
    make_task(cast.alpha, "Late", assignee=cast.sam, due_date=today - timedelta(1))
    make_task(cast.alpha, "Today", assignee=cast.sam, due_date=today)
    make_task(cast.alpha, "Undated", assignee=cast.sam, status="in_progress")
    make_task(cast.alpha, "Later", assignee=cast.mia, due_date=today + timedelta(30))
    make_task(cast.alpha, "Nobody's", due_date=today - timedelta(3), status="pending")
    # Closed work and another firm's count nowhere.
    make_task(
        cast.alpha,
        "Done",
        assignee=cast.sam,
        due_date=today - timedelta(5),
        status="completed",
    )
    make_task(cast.alpha, "Dropped", assignee=cast.mia, status="cancelled")
    make_task(cast.beta, "Beta's", assignee=cast.oscar, due_date=today - timedelta(1))

    html = login_as(cast.alice).get(URL).content.decode()

    assert _figures(html, "dash-work") == {
        "Open tasks": "5",
        "Overdue": "2",
        "Due this week": "1",
    }
    # Overdue, not overdue, total: the most open work first.
    assert _chart_rows(html, "dashboard-work") == {
        "Sam Staff": ["1", "2", "3"],
        "Mia Manager": ["0", "1", "1"],
        "Unassigned": ["1", "0", "1"],
    }
    assert "Beta" not in _section(html, "dash-work")


def test_more_than_ten_people_end_in_everyone_else(cast, login_as):
    people = [make_member(cast.alpha, f"Person {i:02d}", Role.STAFF) for i in range(12)]
    for i, person in enumerate(people):
        make_tasks(cast.alpha, 12 - i, prefix=person.name, assignee=person)

    rows = _chart_rows(login_as(cast.alice).get(URL).content.decode(), "dashboard-work")

    assert list(rows)[:2] == ["Person 00", "Person 01"]
    assert len(rows) == 11
    # Person 10 (2 tasks) and Person 11 (1 task), none overdue.
    assert rows["Everyone else (2)"] == ["0", "3", "3"]


def test_due_this_week_lists_open_tasks_from_today_to_sunday(cast, login_as):
    today = firm_today(cast.alpha)
    sunday = today + timedelta(days=6 - today.weekday())
    acme = make_client(cast.alpha, "Acme Widgets")
    make_task(cast.alpha, "File the return", client=acme, due_date=sunday)
    make_task(cast.alpha, "Call the bank", assignee=cast.sam, due_date=today)
    make_task(cast.alpha, "Yesterday's", due_date=today - timedelta(1))
    make_task(cast.alpha, "Next week's", due_date=sunday + timedelta(1))
    make_task(cast.alpha, "Finished", due_date=today, status="completed")

    html = login_as(cast.alice).get(URL).content.decode()

    due = _section(html, "dash-due")
    titles = re.findall(r'<li><a href="/o/alpha/tasks/[0-9a-f-]+/">([^<]+)</a>', due)
    # By due date, then as they were added (both are due today on a Sunday).
    assert titles == (
        ["Call the bank", "File the return"]
        if today != sunday
        else ["File the return", "Call the bank"]
    )
    assert "Acme Widgets" in due and "Sam Staff" in due
    assert "Yesterday" not in due and "Next week" not in due and "Finished" not in due


def test_due_this_week_says_how_many_more_there_are(cast, login_as):
    today = firm_today(cast.alpha)
    make_tasks(cast.alpha, 11, due_date=today)

    html = login_as(cast.alice).get(URL).content.decode()

    due = _section(html, "dash-due")
    assert due.count("<li>") == 8
    assert "And 3 more due by" in due


# Money --------------------------------------------------------------------------------


@pytest.fixture
def acme(cast):
    """Sam's client (he is on its staff) where the firm limits staff to theirs."""
    return make_client(cast.alpha, "Acme Widgets", partner=cast.alice, staff=cast.sam)


@pytest.fixture
def birch(cast):
    return make_client(cast.alpha, "Birch Bakery", partner=cast.adam)


def test_billed_and_collected_are_added_up_by_month(cast, login_as, acme, birch):
    """Hand-computed, in the last twelve months of the firm's today:

    this month      billed 1,000 + 250 - 100 (credit note)   collected 0
    two months ago  billed 400                               collected 400 - 50
    Left out: a draft, a void invoice, a failed payment, an invoice of thirteen
    months ago and its payment, Beta's invoice.
    """
    today = firm_today(cast.alpha)
    this_month = today.replace(day=1)
    two_ago = add_months(today, -2)
    long_ago = add_months(today, -12) - timedelta(days=1)
    billed = write_invoice(acme, lines=[("1000", "1000")], issue_date=this_month)
    write_invoice(birch, lines=[("250", "250")], issue_date=today)
    write_invoice(
        acme,
        lines=[("100", "0")],
        kind="credit_note",
        credited_invoice=billed,
        issue_date=today,
    )
    paid = write_invoice(
        birch, lines=[("400", "400")], status="paid", issue_date=two_ago
    )
    write_payment(paid, "400", refunded="50", received_on=two_ago + timedelta(3))
    write_payment(paid, "400", status="failed", received_on=two_ago)
    write_invoice(acme, lines=[("500", "500")], status="draft", issue_date=today)
    write_invoice(acme, lines=[("300", "300")], status="void", issue_date=today)
    old = write_invoice(
        acme, lines=[("900", "900")], status="paid", issue_date=long_ago
    )
    write_payment(old, "900", received_on=long_ago)
    beta_client = make_client(cast.beta, "Beta's client")
    write_invoice(beta_client, lines=[("7777", "7777")], issue_date=today)

    html = login_as(cast.alice).get(URL).content.decode()

    assert _figures(html, "dash-billed") == {
        "Billed, last 12 months": "USD 1,550.00",
        "Collected, last 12 months": "USD 350.00",
    }
    rows = _chart_rows(html, "dashboard-billed")
    assert len(rows) == 12
    assert rows[this_month.strftime("%b %Y")] == ["USD 1,150.00", "USD 0.00"]
    assert rows[two_ago.strftime("%b %Y")] == ["USD 400.00", "USD 350.00"]
    assert list(rows)[0] == add_months(today, -11).strftime("%b %Y")
    assert sum(v != ["USD 0.00", "USD 0.00"] for v in rows.values()) == 2


def test_receivables_and_work_in_progress_show_their_totals(cast, login_as, acme):
    today = firm_today(cast.alpha)
    write_invoice(
        acme,
        lines=[("250", "250")],
        status="overdue",
        issue_date=today - timedelta(70),
        due_date=today - timedelta(40),
    )
    write_invoice(
        acme,
        lines=[("1000", "1000")],
        issue_date=today,
        due_date=today + timedelta(30),
    )
    write_time_entry(acme, cast.sam, minutes=90, rate="100", day=today)
    write_time_entry(acme, cast.sam, minutes=60, rate="100", day=today - timedelta(100))
    write_time_entry(acme, cast.sam, minutes=600, rate="100", billable=False)
    write_invoice(acme, lines=[("75", "75")], status="draft", issue_date=today)

    html = login_as(cast.alice).get(URL).content.decode()

    assert _figures(html, "dash-ar") == {
        "Owed (2 invoices)": "USD 1,250.00",
        "Past due": "USD 250.00",
    }
    ages = _chart_rows(html, "dashboard-ageing")
    assert ages["Current"] == ["USD 1,000.00"]
    assert ages["31–60 days"] == ["USD 250.00"]
    assert _figures(html, "dash-wip") == {
        "Unbilled": "USD 325.00",
        "Unbilled time": "USD 250.00 (2.5 h)",
        "On draft invoices": "USD 75.00",
        "Over 90 days old": "USD 100.00",
    }


def test_read_only_members_see_the_money_but_no_button_to_bill(cast, login_as, acme):
    """The money reports are every member's to read (billing/views/reports.py);
    billing is for staff and above (billing.services.common.require_biller)."""
    write_invoice(acme, lines=[("400", "400")], issue_date=firm_today(cast.alpha))

    html = login_as(cast.rita).get(URL).content.decode()

    assert _figures(html, "dash-ar")["Owed (1 invoice)"] == "USD 400.00"
    assert "/billing/invoices/new/" not in html
    assert "/workflows/start/" not in html


# Documents and the portal -------------------------------------------------------------


def test_documents_waiting_for_review_are_counted_oldest_first(cast, login_as, acme):
    make_document(acme, title="W-2 from Acme", ocr_status="needs_review")
    make_document(acme, title="1099", ocr_status="needs_review")
    make_document(acme, title="Blurry scan", ocr_status="failed")
    make_document(acme, title="Read fine")
    make_document(
        acme, title="Archived", ocr_status="needs_review", archived_at=timezone.now()
    )
    make_document(make_client(cast.beta, "Beta's"), ocr_status="needs_review")

    html = login_as(cast.alice).get(URL).content.decode()

    assert _figures(html, "dash-review") == {"To review": "2", "Could not be read": "1"}
    panel = _section(html, "dash-review")
    assert re.findall(
        r'<li><a href="/o/alpha/documents/[0-9a-f-]+/">([^<]+)</a>', panel
    ) == [
        "W-2 from Acme",
        "1099",
    ]


def test_requests_outstanding_count_what_clients_owe(cast, login_as, acme, birch):
    today = firm_today(cast.alpha)
    late, soon = today - timedelta(2), today + timedelta(9)
    _add_request(acme, items=[("open", late), ("rejected", soon), ("received", soon)])
    _add_request(birch, items=[("open", soon), ("accepted", late)])
    _add_request(birch, items=[("open", late)], status="completed")
    _add_request(make_client(cast.beta, "Beta's"), items=[("open", late)])

    html = login_as(cast.alice).get(URL).content.decode()

    assert _figures(html, "dash-requests") == {
        "Open requests": "2",
        "With overdue items": "1",
        "Items clients owe": "3",
        "Received, to accept": "1",
    }


def test_recent_portal_activity_leaves_out_security_noise(cast, login_as, acme):
    _add_activity(cast.alpha, Activity.SIGNED_IN, email="jo@acme.test")
    _add_activity(
        cast.alpha,
        Activity.UPLOADED,
        client=acme,
        email="jo@acme.test",
        summary="Uploaded w2.pdf for “W-2”",
    )
    _add_activity(cast.alpha, Activity.SIGN_IN_FAILED, email="mallory@evil.test")
    _add_activity(cast.beta, Activity.UPLOADED, summary="Beta's upload")

    html = login_as(cast.alice).get(URL).content.decode()

    panel = _section(html, "dash-activity")
    items = [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", li)).strip()
        for li in re.findall(r"<li>(.*?)</li>", panel, flags=re.S)
    ]
    assert len(items) == 2
    assert items[0].startswith("jo@acme.test: Uploaded w2.pdf for “W-2” Acme Widgets")
    assert items[1].startswith("jo@acme.test: Signed in")
    assert "mallory" not in panel and "Beta" not in panel


# Staff limited to their clients --------------------------------------------------------


def test_staff_limited_to_their_clients_see_their_share(cast, login_as, acme, birch):
    with platform_bypass():
        cast.alpha.assigned_clients_only = True
        cast.alpha.save(update_fields=["assigned_clients_only"])
    today = firm_today(cast.alpha)
    for client, amount in ((acme, "100"), (birch, "900")):
        make_task(cast.alpha, f"{client} task", client=client, assignee=cast.mia)
        write_invoice(client, lines=[(amount, amount)], issue_date=today)
        write_time_entry(client, cast.mia, minutes=60, rate=amount, day=today)
        make_document(client, ocr_status="needs_review")
        _add_request(client, items=[("open", today)])
        _add_activity(cast.alpha, Activity.UPLOADED, client=client, summary=f"{client}")
    _add_activity(cast.alpha, Activity.SIGNED_IN, email="someone@client.test")

    sam = login_as(cast.sam).get(URL).content.decode()

    assert _figures(sam, "dash-work")["Open tasks"] == "1"
    assert _figures(sam, "dash-billed")["Billed, last 12 months"] == "USD 100.00"
    assert _figures(sam, "dash-ar")["Owed (1 invoice)"] == "USD 100.00"
    assert _figures(sam, "dash-wip")["Unbilled"] == "USD 100.00"
    assert _figures(sam, "dash-review")["To review"] == "1"
    assert _figures(sam, "dash-requests")["Open requests"] == "1"
    activity = _section(sam, "dash-activity")
    assert "Acme Widgets" in activity
    assert "Birch Bakery" not in activity and "someone@client.test" not in activity

    # A manager sees every client.
    mia = login_as(cast.mia).get(URL).content.decode()
    assert _figures(mia, "dash-billed")["Billed, last 12 months"] == "USD 1,000.00"
    assert "someone@client.test" in _section(mia, "dash-activity")


# Charts -------------------------------------------------------------------------------


def test_each_chart_is_an_image_with_its_figures_in_a_table(cast, login_as, acme):
    today = firm_today(cast.alpha)
    make_task(cast.alpha, "Late", assignee=cast.sam, due_date=today - timedelta(1))
    write_invoice(acme, lines=[("100", "100")], issue_date=today, due_date=today)

    html = login_as(cast.alice).get(URL).content.decode()

    for chart_id in ("dashboard-work", "dashboard-billed", "dashboard-ageing"):
        figure = html.split(f'<figure class="chart" id="{chart_id}">', 1)[1].split(
            "</figure>", 1
        )[0]
        svg = ElementTree.fromstring(  # noqa: S314 (our own output)
            '<svg xmlns="http://www.w3.org/2000/svg" class="chart-svg"'
            + figure.split('class="chart-svg"', 1)[1].split("</svg>", 1)[0]
            + "</svg>"
        )
        assert svg.get("role") == "img"
        assert svg.get("aria-labelledby") == f"{chart_id}-title {chart_id}-desc"
        assert "<summary>Show the figures</summary>" in figure
        assert "<caption>" in figure
    # No inline style anywhere in the panels (the Content-Security-Policy).
    assert " style=" not in html.split('data-testid="dash-grid"')[1]


# Speed --------------------------------------------------------------------------------


def _fill(cast, client, n: int) -> None:
    """n rows of every kind each panel reads."""
    today = firm_today(cast.alpha)
    make_tasks(cast.alpha, n, assignee=cast.sam, client=client)
    make_tasks(cast.alpha, n, prefix="Late", due_date=today - timedelta(1))
    make_invoices(client, n, first_number=1000 * n)
    paid = write_invoice(
        client, lines=[("100", "100")], status="paid", issue_date=today
    )
    for _ in range(n):
        write_payment(paid, "1", received_on=today)
        write_time_entry(client, cast.sam, minutes=30, day=today)
        make_document(client, ocr_status="needs_review")
        _add_request(client, items=[("open", today)])
        _add_activity(cast.alpha, Activity.UPLOADED, client=client, summary="A file")


@pytest.mark.parametrize("who", ["alice", "sam"])
def test_the_query_count_does_not_grow_with_rows(
    cast, login_as, acme, django_assert_num_queries, who
):
    with platform_bypass():
        cast.alpha.assigned_clients_only = True  # binds Sam, not Alice
        cast.alpha.save(update_fields=["assigned_clients_only"])
    client = login_as(getattr(cast, who))
    client.get(URL)  # settles the session's first-visit writes
    for n in (0, 1, 30):
        _fill(cast, acme, n)
        # 1 session, 2 user, 3 the firm, entered in its RLS context, 4 the member's
        # firms (the membership and the switcher), 5 active members and owners,
        # 6 open invitations; the panels: documents 7 the review queue's counts,
        # 8 its oldest documents; workflows 9 open tasks per person, 10 the firm's
        # people's names, 11 the tasks due this week; billing 12 the firm's
        # currency, 13 billed and collected by month, 14 receivables' totals,
        # 15 work in progress's totals; portal 16 requests outstanding (the firm's
        # outstanding days, or Sam's clients' request items), 17 the
        # newest activity; 18 reset the RLS context. (Alice, an owner, also reads
        # 19 the security events.) The member's assigned clients are subqueries,
        # never a query of their own.
        with django_assert_num_queries(19 if who == "alice" else 18):
            response = client.get(URL)
        assert response.status_code == 200
    assert _figures(response.content.decode(), "dash-work")["Open tasks"] == "62"
