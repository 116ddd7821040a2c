"""Demo documents for "Demo CPA" (`manage.py seed_demo`, run by `make run`).

A few clients get real files made on the spot (a W-2 scan, a 1099 image-only
PDF, a bank statement with a text layer, a photographed receipt) which are read
by OCR right here, so the demo opens with completed OCR, suggested categories
and searchable text; one of them gets a new version. Two document requests
chase a client, one with an overdue item and one item already received.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.files.base import ContentFile
from django.db import transaction

from advisoros.accounts.models import User
from advisoros.tenancy.clock import firm_today
from advisoros.tenancy.demo import register_demo_seeder
from advisoros.tenancy.models import Organization
from clients.demo import DEMO_SLUG, MANAGER, STAFF
from clients.models import Client, ClientStatus, EntityType
from documents.models import AccessLevel, Document
from documents.services.documents import document_add_version, document_create
from documents.services.requests import (
    document_request_create,
    document_request_item_attach,
)


@register_demo_seeder
def seed_demo_documents(
    *, organization: Organization, people: dict[str, User], stdout=None
) -> None:
    """Runs inside the firm's context; does nothing when the firm has documents."""
    # Drawing scans (Pillow) and OCR load here, not when every process starts.
    from documents.demo_scans import demo_files
    from documents.ocr import OcrTransientError
    from documents.services.ocr import document_ocr_fail, document_ocr_run

    if organization.slug != DEMO_SLUG:
        return
    if Document.objects.filter(organization=organization).exists():
        return
    clients = list(
        Client.objects.filter(
            organization=organization,
            status=ClientStatus.ACTIVE,
            entity_type=EntityType.INDIVIDUAL,
        ).order_by("client_code")[:3]
    )
    if not clients:
        return
    staff = people[STAFF]
    created: list[Document] = []
    with transaction.atomic():
        for index, demo in enumerate(demo_files()):
            created.append(
                document_create(
                    client=clients[index % len(clients)],
                    file=ContentFile(demo.content),
                    filename=demo.filename,
                    title=demo.title,
                    uploaded_by=staff,
                    tax_year=2025,
                )
            )
        first = created[0]
        created.append(
            document_add_version(
                document=first,
                file=ContentFile(demo_files()[0].content + b"\n"),
                filename=first.original_filename,
                uploaded_by=people[MANAGER],
            )
        )
        created.append(
            document_create(
                client=clients[0],
                file=ContentFile(
                    b"Partner memo: estimated tax penalty discussion, see Q3 numbers.\n"
                ),
                filename="partner-memo.txt",
                title="Partner memo on estimated taxes",
                uploaded_by=people[MANAGER],
                access_level=AccessLevel.RESTRICTED,
            )
        )
        _requests(clients[0], staff, received=created[0])
    # Outside the upload transaction, as the worker would: OCR is slow and each
    # document's result stands on its own. A failure the worker would retry (no
    # tesseract on this machine) ends that document's OCR as failed, with the
    # reason on its page and a Try again button, instead of stopping the seed.
    unread, reason = 0, ""
    for document in created:
        try:
            document_ocr_run(document_id=document.pk)
        except OcrTransientError as exc:
            document_ocr_fail(document_id=document.pk, error=exc.message)
            unread, reason = unread + 1, exc.message
    if stdout is not None:
        stdout.write(
            f"Demo documents: {len(created) - unread} files read by OCR, 2 requests."
            + (f" {unread} left unread: {reason}" if unread else "")
        )


def _requests(client: Client, staff: User, *, received: Document) -> None:
    today = firm_today(client.organization)
    organizer = document_request_create(
        client=client,
        title="2025 tax organizer",
        message="Please upload these so we can start your 2025 return.",
        items=[
            {
                "title": "W-2 from every employer",
                "category": "w2",
                "description": "",
                "due_date": today - timedelta(days=5),
            },
            {
                "title": "1099-INT and 1099-DIV from your banks and brokers",
                "category": "1099",
                "description": "",
                "due_date": today - timedelta(days=5),
            },
            {
                "title": "Mortgage interest statement (1098)",
                "category": "1098",
                "description": "",
                "due_date": today + timedelta(days=10),
            },
        ],
        created_by=staff,
    )
    document_request_item_attach(
        item=organizer.items.order_by("position").first(), document=received, by=staff
    )
    document_request_create(
        client=client,
        title="January bank statements",
        message="For the monthly reconciliation.",
        items=[
            {
                "title": "Operating account statement, January",
                "category": "bank_statement",
                "description": "",
                "due_date": today + timedelta(days=14),
            }
        ],
        created_by=staff,
    )
