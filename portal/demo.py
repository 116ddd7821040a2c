"""The demo portal contact (`manage.py seed_demo`, run by `make run`).

client@demo.test (password demo-pass-2026) is Pat Morgan, a contact of two Demo
CPA clients: the first household (every capability: its two document requests,
a shared document, an engagement letter to sign) and the first business (answer
requests, shared documents and messages, but not sign). A short message thread
waits on the household.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.core.files.base import ContentFile
from django.db import transaction

from advisoros.accounts.models import User
from advisoros.tenancy.clock import firm_today
from advisoros.tenancy.demo import register_demo_seeder
from advisoros.tenancy.models import Organization
from clients.demo import DEMO_SLUG, STAFF
from clients.models import (
    CLOSED_ENGAGEMENT_STATUSES,
    Client,
    ClientStatus,
    ContactRole,
    Engagement,
    EntityType,
)
from clients.services.contacts import contact_create, contact_link
from clients.services.engagements import engagement_create, engagement_letter_attach
from documents.demo_scans import text_layer_pdf
from documents.models import Document, DocumentRequest
from documents.services.documents import document_create
from documents.services.requests import document_request_create
from portal.models import Message, PortalAccount, PortalGrant

PORTAL_EMAIL = "client@demo.test"
PORTAL_PASSWORD = "demo-pass-2026"  # noqa: S105 (the demo's published login)

LETTER_LINES = [
    "Engagement letter: 2025 individual income tax return",
    "This letter confirms the terms of our engagement to prepare your 2025",
    "federal and state income tax returns from the information you provide.",
    "Our fee is based on the time required, at our standard rates.",
    "You are responsible for the completeness and accuracy of that information.",
]


@register_demo_seeder
def seed_demo_portal(
    *, organization: Organization, people: dict[str, User], stdout=None
) -> None:
    if organization.slug != DEMO_SLUG:
        return
    if PortalGrant.objects.filter(
        organization=organization, contact__email=PORTAL_EMAIL
    ).exists():
        return
    household = (
        Client.objects.filter(
            organization=organization,
            status=ClientStatus.ACTIVE,
            entity_type=EntityType.INDIVIDUAL,
        )
        .order_by("client_code")
        .first()
    )
    business = (
        Client.objects.filter(organization=organization, status=ClientStatus.ACTIVE)
        .exclude(entity_type__in=[EntityType.INDIVIDUAL])
        .order_by("client_code")
        .first()
    )
    if household is None or business is None:
        return
    staff = people[STAFF]
    with transaction.atomic():
        pat = contact_create(
            client=household,
            data={
                "first_name": "Pat",
                "last_name": "Morgan",
                "email": PORTAL_EMAIL,
                "phone": "555-0142",
            },
            role=ContactRole.PRIMARY,
        )
        contact_link(client=business, contact=pat, role=ContactRole.OFFICER)
        PortalGrant.objects.create(
            organization=organization,
            contact=pat,
            client=household,
            can_view_documents=True,
            can_upload=True,
            can_sign=True,
            can_message=True,
            # The household's invoices (billing.demo leaves one open): seen
            # and paid on the portal (online once the firm connects Stripe).
            can_view_invoices=True,
            can_pay=True,
            granted_by=staff,
        )
        PortalGrant.objects.create(
            organization=organization,
            contact=pat,
            client=business,
            can_view_documents=True,
            can_upload=True,
            can_sign=False,
            can_message=True,
            can_view_invoices=True,
            granted_by=staff,
        )
        account = PortalAccount.objects.filter(email=PORTAL_EMAIL).first()
        if account is None:
            PortalAccount.objects.create(
                email=PORTAL_EMAIL, password=make_password(PORTAL_PASSWORD)
            )
        _requests(household, business, staff)
        _shared_document(household, staff)
        _letter(household)
        _messages(household, pat, staff)
    if stdout is not None:
        stdout.write(
            f"Demo portal: {PORTAL_EMAIL} / {PORTAL_PASSWORD} for "
            f"{household.display_name} and {business.display_name}."
        )


def _requests(household: Client, business: Client, staff: User) -> None:
    """The household has the documents demo's two requests; the business gets one."""
    today = firm_today(household.organization)
    if not DocumentRequest.objects.filter(client=household, status="open").exists():
        document_request_create(
            client=household,
            title="2025 tax organizer",
            items=[{"title": "W-2 from every employer", "category": "w2"}],
            created_by=staff,
        )
    document_request_create(
        client=business,
        title="Year-end close",
        message="For the year-end books and the 1120-S.",
        items=[
            {
                "title": "December bank statement",
                "category": "bank_statement",
                "description": "",
                "due_date": today + timedelta(days=7),
            },
            {
                "title": "Payroll summary for the year",
                "category": "payroll",
                "description": "",
                "due_date": today + timedelta(days=14),
            },
        ],
        created_by=staff,
    )


def _shared_document(household: Client, staff: User) -> None:
    shared = (
        Document.objects.filter(client=household, is_latest_version=True)
        .order_by("created_at")
        .first()
    )
    if shared is not None:
        Document.objects.filter(pk=shared.pk).update(visible_to_client=True)
    document_create(
        client=household,
        file=ContentFile(
            text_layer_pdf(
                [
                    "2024 federal return: filed copy",
                    "Form 1040 U.S. Individual Income Tax Return 2024",
                ]
            )
        ),
        filename="2024 Form 1040 (filed copy).pdf",
        uploaded_by=staff,
        title="2024 Form 1040, filed copy",
        category="tax_return",
        tax_year=2024,
        visible_to_client=True,
    )


def _letter(household: Client) -> None:
    engagement = (
        Engagement.objects.filter(client=household)
        .exclude(status__in=CLOSED_ENGAGEMENT_STATUSES)
        .order_by("id")
        .first()
    )
    if engagement is None:
        engagement = engagement_create(
            client=household,
            data={"name": "2025 Form 1040", "engagement_type": "tax_return"},
        )
    upload = ContentFile(text_layer_pdf(LETTER_LINES), name="engagement-letter.pdf")
    engagement_letter_attach(engagement=engagement, upload=upload)


def _messages(household: Client, pat, staff: User) -> None:
    organization_id = household.organization_id
    Message.objects.create(
        organization_id=organization_id,
        client=household,
        sender_user=staff,
        from_client=False,
        body="Hi Pat, we have started on your 2025 return. The organizer lists "
        "what we still need; a photo of each form is fine.",
    )
    Message.objects.create(
        organization_id=organization_id,
        client=household,
        sender_contact=pat,
        from_client=True,
        body="Thanks! The W-2 from my second job should arrive next week.",
    )
