"""A partner starts a 1040 for a client in a real browser, completes its first
task, sees the next one become ready, and moves work on the team board by drag
and drop and from the keyboard.

Chromium runs the pages as a visitor would: the Content-Security-Policy, htmx,
board.js's native drag and drop and the server's verdict all really happen.
Any console error (a CSP violation shows up as one) fails the test.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.models import Organization
from clients.models import Client, ClientStatus, EntityType
from tests.browser.conftest import sign_in
from workflows.models import Task, WorkflowExecution, WorkflowTemplate

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
LETTER = "Send the engagement letter"
REVIEW_LAST_YEAR = "Review last year's return and carryovers"
ORGANIZER = "Send the tax organizer and document request"


def _demo():
    return Organization.objects.get(slug="demo")


def _client_without_work(demo) -> Client:
    with tenant_context(demo):
        return (
            Client.objects.filter(
                organization=demo,
                entity_type=EntityType.INDIVIDUAL,
                status=ClientStatus.ACTIVE,
                workflow_executions__isnull=True,
            )
            .order_by("client_code")
            .first()
        )


def _status(demo, execution_uuid: str, title: str) -> str:
    with tenant_context(demo):
        return Task.objects.get(execution__uuid=execution_uuid, title=title).status


def _row(page, title: str):
    """The workflow page's row of the step `title` (its link, not a "waits for")."""
    return page.get_by_test_id("task-row").filter(
        has=page.get_by_role("link", name=title, exact=True)
    )


def _card(page, column: str, title: str):
    return (
        page.get_by_test_id(f"column-{column}")
        .get_by_test_id("board-card")
        .filter(has_text=title)
    )


def test_a_partner_starts_a_1040_completes_a_task_and_moves_cards_on_the_board(
    demo, page, console_errors
):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    firm = _demo()
    client = _client_without_work(firm)
    with tenant_context(firm):
        template = WorkflowTemplate.objects.get(organization=firm, starter_key="1040")
    sign_in(page, "owner@demo.test", "demo-pass-2026")

    # From the client page's Workflows tab to a started 1040.
    page.goto(f"/o/demo/clients/{client.uuid}/?tab=workflows")
    assert page.get_by_test_id("client-workflows-empty").is_visible()
    page.get_by_test_id("start-workflow").click()
    page.wait_for_url("**/o/demo/workflows/start/?client=*")
    form = page.get_by_test_id("start-form")
    form.get_by_label("Template").select_option(label=template.name)
    form.get_by_role("button", name="Start workflow").click()
    page.wait_for_url(re.compile(r"/o/demo/workflows/[0-9a-f-]{36}/$"))
    execution_uuid = page.url.rstrip("/").rsplit("/", 1)[1]
    assert "Ready" in _row(page, LETTER).inner_text()
    assert "Pending" in _row(page, REVIEW_LAST_YEAR).inner_text()

    # Complete the first task on its page: the step that waited for it is ready.
    _row(page, LETTER).get_by_role("link", name=LETTER).click()
    page.wait_for_url("**/o/demo/tasks/*/")
    page.get_by_role("button", name="Complete", exact=True).click()
    page.wait_for_load_state()
    assert "Completed" in page.get_by_test_id("task-status").inner_text()
    page.goto(f"/o/demo/workflows/{execution_uuid}/")
    assert "Completed" in _row(page, LETTER).inner_text()
    assert "Ready" in _row(page, REVIEW_LAST_YEAR).inner_text()
    page.screenshot(path=SCREENSHOTS / "workflow-detail.png", full_page=True)

    # The client's tab shows the workflow with its progress.
    page.goto(f"/o/demo/clients/{client.uuid}/?tab=workflows")
    assert template.name in page.get_by_test_id("client-workflows").inner_text()

    # The board, narrowed to this workflow: drag a ready card to "In progress".
    board_url = f"/o/demo/work/board/?execution={execution_uuid}"
    page.goto(board_url)
    card = _card(page, "ready", REVIEW_LAST_YEAR)
    card.drag_to(page.get_by_test_id("column-in_progress"))
    flash = page.locator("[data-board-flash]")
    expect(flash).to_contain_text("is now in progress")  # the server said yes
    expect(_card(page, "in_progress", REVIEW_LAST_YEAR)).to_be_visible()
    assert _status(firm, execution_uuid, REVIEW_LAST_YEAR) == "in_progress"
    page.reload()
    assert _card(page, "in_progress", REVIEW_LAST_YEAR).is_visible()
    assert _card(page, "ready", REVIEW_LAST_YEAR).count() == 0

    # The server is the judge: a step that needs no approval cannot go to review.
    _card(page, "ready", ORGANIZER).drag_to(page.get_by_test_id("column-in_review"))
    expect(flash).to_have_class(re.compile("flash-error"))
    expect(flash).to_contain_text("needs no approval")
    assert _card(page, "ready", ORGANIZER).is_visible()  # snapped back
    assert _status(firm, execution_uuid, ORGANIZER) == "ready"

    # From the keyboard: the card's "Move to" menu.
    organizer = _card(page, "ready", ORGANIZER)
    organizer.get_by_label(f"Move “{ORGANIZER}” to").select_option(label="Completed")
    organizer.get_by_role("button", name="Move").press("Enter")
    expect(_card(page, "completed", ORGANIZER)).to_be_visible()
    expect(flash).to_contain_text("is now completed")
    assert _status(firm, execution_uuid, ORGANIZER) == "completed"
    page.screenshot(path=SCREENSHOTS / "board.png", full_page=True)

    # My work and the workload page show the work too.
    page.goto("/o/demo/work/")
    assert page.get_by_test_id("my-work-summary").is_visible()
    page.goto("/o/demo/work/workload/")
    assert page.get_by_test_id("workload").is_visible()
    page.screenshot(path=SCREENSHOTS / "workload.png", full_page=True)
    with tenant_context(firm):
        execution = WorkflowExecution.objects.get(uuid=execution_uuid)
    assert execution.tasks_done == 2
    # Chromium logs the refused move's answer (409) as a failed resource; nothing
    # else may show up (a CSP violation would).
    assert [e for e in console_errors if "status of 409 (Conflict)" not in e] == []
