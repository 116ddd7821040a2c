"""The portal on a phone (390 x 844): the link in the reminder email, Continue,
a photo for the item, received: three steps, no password. Then the firm accepts
it and the workflow task waiting for it completes by itself."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from advisoros.tenancy.db import tenant_context
from clients.models import ClientContact, Contact
from documents.demo_scans import photo_png
from documents.models import Document, DocumentRequestItem
from documents.reminders import document_request_remind
from documents.services.requests import (
    document_request_create,
    document_request_item_accept,
)
from portal.models import PortalAccount
from tests.browser.axe import assert_fits_and_accessible
from tests.factories import make_client, make_template, start_workflow
from tests.portal.conftest import media_root  # noqa: F401 (autouse: own file store)
from workflows.models import TaskStatus
from workflows.services.automation import task_link_request

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_from_the_reminder_to_received_in_three_steps(
    cast, phone, console_errors, settings, tmp_path
):
    organization = cast.alpha
    jane = make_client(organization, "Jane Doe", partner=cast.alice, staff=cast.sam)
    with tenant_context(organization):
        joan = Contact.objects.create(
            organization=organization,
            first_name="Joan",
            last_name="Doe",
            email="joan@client.test",
        )
        ClientContact.objects.create(
            organization=organization, client=jane, contact=joan
        )
        request = document_request_create(
            client=jane,
            title="2026 tax documents",
            items=[
                {"title": "W-2", "due_date": timezone.localdate() - timedelta(days=3)}
            ],
            created_by=cast.alice,
        )
        item = request.items.get()
    template = make_template(
        organization,
        "1040",
        [("Receive W-2", {"completes_on": "request_item_fulfilled"})],
    )
    execution = start_workflow(template, jane)
    with tenant_context(organization):
        task = execution.tasks.get()
        task_link_request(task=task, request_or_item=item, by=cast.sam)

    with tenant_context(organization):
        sent = document_request_remind(
            organization=organization,
            request_id=request.pk,
            now=timezone.now(),
            cadence_days=7,
        )
    assert sent == 1
    (email,) = mail.outbox
    link = re.search(r"https?://\S+/p/alpha/r/[\w-]+/", email.body).group(0)
    path = link[link.index("/p/") :]

    steps = []
    # 1. Open the link from the email.
    phone.goto(path)
    steps.append("open the link")
    assert_fits_and_accessible(phone)
    # 2. Continue.
    phone.get_by_role("button", name="Continue").click()
    steps.append("continue")
    expect(phone.get_by_role("heading", name="2026 tax documents")).to_be_visible()
    assert_fits_and_accessible(phone)
    # 3. Take a photo (the file chooser offers the camera): the upload starts at once.
    photo = tmp_path / "w2.png"
    photo.write_bytes(photo_png())
    with phone.expect_file_chooser() as chooser:
        phone.get_by_text("Take a photo or choose a file").click()
    chooser.value.set_files(str(photo))
    steps.append("take the photo")
    expect(phone.get_by_test_id("item-status")).to_have_text("Received")
    expect(phone.locator(".portal-files li").first).to_contain_text("w2.png")
    assert_fits_and_accessible(phone)

    assert len(steps) <= 3, steps
    assert not PortalAccount.objects.filter(email="joan@client.test").exists()
    assert console_errors == []

    # The firm sees it on the request, accepts it, and the task completes.
    with tenant_context(organization):
        document = Document.objects.get(request_item=item)
        assert (
            document.source == "portal" and document.uploaded_by_contact_id == joan.pk
        )
        item.refresh_from_db()
        assert item.status == DocumentRequestItem.Status.RECEIVED
    from django.test import Client as HttpClient

    staff = HttpClient()
    staff.force_login(cast.alice)
    page = staff.get(f"/o/alpha/documents/requests/{request.uuid}/")
    assert page.status_code == 200 and b"w2.png" in page.content
    with tenant_context(organization):
        document_request_item_accept(item=item, by=cast.alice)
        task.refresh_from_db()
    assert task.status == TaskStatus.COMPLETED
