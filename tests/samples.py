"""One row in every tenant table of a firm, for the row-level security tests.

`tests/tenancy/test_rls.py` needs rows of two firms in each table to prove one
firm cannot read or move the other's. A new tenant model adds a line here; the
RLS test names the table that has none.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from advisoros.accounts.models import User
from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.models import Organization


def firm_samples(organization: Organization, user: User) -> None:
    from clients.models import (
        ClientImport,
        ClientRelationship,
        Engagement,
        EngagementType,
        Note,
        Tag,
    )
    from clients.services.clients import client_create, client_set_tags

    with tenant_context(organization):
        tag = Tag.objects.create(organization=organization, name="VIP")
        one = client_create(
            organization=organization, data={"display_name": "Sample One"}
        )
        two = client_create(
            organization=organization, data={"display_name": "Sample Two"}
        )
        client_set_tags(client=one, tags=[tag])  # ClientTag
        ClientRelationship.objects.create(
            organization=organization, from_client=one, to_client=two, kind="spouse"
        )
        from clients.models import ClientContact, Contact

        contact = Contact.objects.create(organization=organization, first_name="Pat")
        ClientContact.objects.create(
            organization=organization, client=one, contact=contact
        )
        engagement = Engagement.objects.create(
            organization=organization,
            client=one,
            name="2026 return",
            engagement_type=EngagementType.INDIVIDUAL_TAX,
            due_date=timezone.localdate() + timedelta(days=30),
        )
        Note.objects.create(
            organization=organization,
            client=one,
            engagement=engagement,
            author=user,
            body="Hi",
        )
        ClientImport.objects.create(
            organization=organization,
            created_by=user,
            filename="x.csv",
            content="a,b\n",
        )
        _document_samples(organization, user, client=one, engagement=engagement)
        _workflow_samples(organization, user, client=one, engagement=engagement)
        _portal_samples(organization, user, client=one, contact=contact)
        _billing_samples(organization, user, client=one, engagement=engagement)
        _quickbooks_samples(organization, client=one)
        _reports_samples(organization, user, client=one)
        from advisoros.tenancy.models import AccessReview, JobFailure

        JobFailure.objects.create(
            organization=organization, func="clients.tasks.x", error="Boom"
        )
        from advisoros.tenancy.models import FirmExport

        FirmExport.objects.create(organization=organization, created_by=user)
        AccessReview.objects.create(organization=organization, reviewed_by=user)
        _subscription_samples(organization)
        _audit_samples(organization)


def _quickbooks_samples(organization, *, client) -> None:
    from billing.models import Invoice, InvoiceKind
    from integrations.quickbooks.models import (
        CreditApplication,
        LedgerTransaction,
        QuickBooksConnection,
        QuickBooksLink,
        SyncIssue,
        SyncRun,
        WebhookEvent,
    )

    firm_books = QuickBooksConnection.objects.create(
        organization=organization,
        kind="firm",
        realm_id=f"9{organization.pk}01",
        access_token="sample-access",
        refresh_token="sample-refresh",
    )
    client_books = QuickBooksConnection.objects.create(
        organization=organization, kind="client", client=client, realm_id=""
    )
    LedgerTransaction.objects.create(
        organization=organization,
        connection=client_books,
        entity="JournalEntry",
        qbo_id="71",
        period_end=date(2026, 1, 31),
    )
    WebhookEvent.objects.create(
        organization=organization,
        connection=firm_books,
        event_id=f"sample-{organization.pk}",
        type="qbo.customer.updated.v1",
        payload={},
    )
    run = SyncRun.objects.create(
        organization=organization, connection=firm_books, kind="full"
    )
    link = QuickBooksLink.objects.create(
        organization=organization,
        connection=firm_books,
        entity="Customer",
        client=client,
        qbo_id="58",
        state="conflict",
    )
    invoice = Invoice.objects.filter(
        organization=organization, kind=InvoiceKind.INVOICE
    ).first()
    note = Invoice.objects.create(
        organization=organization,
        client=invoice.client,
        kind=InvoiceKind.CREDIT_NOTE,
        number=901,
        status="sent",
        credited_invoice=invoice,
        subtotal=Decimal("10"),
        total=Decimal("10"),
    )
    CreditApplication.objects.create(
        organization=organization,
        connection=firm_books,
        memo_qbo_id="72",
        payment_qbo_id="73",
        invoice=invoice,
        credit_note=note,
        amount=Decimal("10"),
    )
    SyncIssue.objects.create(
        organization=organization,
        connection=firm_books,
        run=run,
        link=link,
        kind="conflict",
        direction="pull",
        entity="Customer",
        key="58",
        ours={"name": "Sample One", "email": ""},
        theirs={"name": "Sample 1", "email": "", "sync_token": "1"},
    )


def _subscription_samples(organization) -> None:
    from advisoros.tenancy.models import FirmSubscription, Plan

    plan, _ = Plan.objects.get_or_create(code="sample", defaults={"name": "Sample"})
    FirmSubscription.objects.create(
        organization=organization,
        plan=plan,
        stripe_customer_id=f"cus_sample_{organization.slug}",
    )


def _audit_samples(organization) -> None:
    from advisoros.audit.integrity import changelog_seal
    from advisoros.audit.models import AuditCheckpoint

    # The change log so far (the rows above wrote entries), in one seal.
    changelog_seal(organization_id=organization.pk)
    AuditCheckpoint.objects.create(
        organization=organization,
        name=f"audit-checkpoints/{organization.pk}/sample.json",
        events=1,
        events_head_digest="1" * 64,
        seals=1,
        seals_head_digest="2" * 64,
        sealed_entries=1,
        signature="3" * 64,
    )


def _document_samples(organization, user, *, client, engagement) -> None:
    from documents.models import (
        Document,
        DocumentAccess,
        DocumentRequest,
        DocumentRequestItem,
        DocumentSettings,
        DocumentTombstone,
    )

    DocumentSettings.objects.create(organization=organization)
    request = DocumentRequest.objects.create(
        organization=organization, client=client, engagement=engagement, title="2026"
    )
    # Its open item also gives the firm rows in OutstandingDay and
    # OutstandingPart, which the database keeps (documents 0011).
    item = DocumentRequestItem.objects.create(
        organization=organization, request=request, title="W-2", category="w2"
    )
    document = Document.objects.create(
        organization=organization,
        client=client,
        title="W-2 wage statement 2026",
        original_filename="w2.pdf",
        file=f"private/{organization.pk}/documents/sample",
        size=3,
        mime_type="application/pdf",
        checksum="0" * 64,
        request_item=item,
        uploaded_by=user,
    )
    DocumentAccess.objects.create(
        organization=organization, document=document, user=user
    )
    DocumentTombstone.objects.create(
        organization=organization,
        document_uuid=document.uuid,
        client=client,
        client_name=client.display_name,
        title="Old receipt",
        original_filename="r.pdf",
        category="receipt",
        version=1,
        size=3,
        checksum="1" * 64,
        uploaded_at=document.created_at,
        purged_by=user,
        purged_by_email=user.email,
    )


def _workflow_samples(organization, user, *, client, engagement) -> None:
    from workflows.models import (
        Notification,
        RecurringSchedule,
        StepDependency,
        StepTemplate,
        Task,
        TaskComment,
        TaskDependency,
        WorkflowExecution,
        WorkflowTemplate,
    )

    template = WorkflowTemplate.objects.create(
        organization=organization, name="1040", category="tax"
    )
    first = StepTemplate.objects.create(
        organization=organization, template=template, position=0, title="Gather"
    )
    second = StepTemplate.objects.create(
        organization=organization, template=template, position=1, title="Prepare"
    )
    StepDependency.objects.create(
        organization=organization, step=second, depends_on=first
    )
    schedule = RecurringSchedule.objects.create(
        organization=organization,
        client=client,
        template=template,
        frequency="monthly",
        starts_on=timezone.localdate(),
    )
    execution = WorkflowExecution.objects.create(
        organization=organization,
        template=template,
        name="1040 2026",
        client=client,
        engagement=engagement,
        start_date=timezone.localdate(),
        recurring_schedule=schedule,
        period_start=timezone.localdate(),
    )
    gather = Task.objects.create(
        organization=organization,
        execution=execution,
        client=client,
        step_index=0,
        title="Gather",
        status="ready",
        assignee=user,
    )
    prepare = Task.objects.create(
        organization=organization,
        execution=execution,
        client=client,
        step_index=1,
        title="Prepare",
    )
    TaskDependency.objects.create(
        organization=organization, task=prepare, depends_on=gather
    )
    TaskComment.objects.create(
        organization=organization, task=gather, author=user, body="Started"
    )
    Notification.objects.create(
        organization=organization, user=user, kind="assigned", task=gather, title="Hi"
    )


def _portal_samples(organization, user, *, client, contact) -> None:
    from documents.models import Document, DocumentRequest
    from portal.models import (
        LetterSignature,
        Message,
        MessageAttachment,
        PortalActivity,
        PortalGrant,
        PortalInvitation,
        RequestLink,
    )

    request = DocumentRequest.objects.filter(client=client).first()
    document = Document.objects.filter(client=client).first()
    engagement = client.engagements.first()
    PortalGrant.objects.create(
        organization=organization, contact=contact, client=client
    )
    PortalInvitation.objects.create(
        organization=organization,
        contact=contact,
        token_hash=f"{organization.pk:064d}",
        expires_at=timezone.now() + timedelta(days=14),
        invited_by=user,
    )
    link = RequestLink.objects.create(
        organization=organization,
        request=request,
        contact=contact,
        token_hash=f"{organization.pk + 10**6:064d}",
        expires_at=timezone.now() + timedelta(days=7),
    )
    PortalActivity.objects.create(
        organization=organization,
        contact=contact,
        client=client,
        action="link_redeemed",
        via_link=link,
    )
    message = Message.objects.create(
        organization=organization,
        client=client,
        sender_contact=contact,
        from_client=True,
        body="Hello",
    )
    MessageAttachment.objects.create(
        organization=organization, message=message, document=document
    )
    LetterSignature.objects.create(
        organization=organization,
        engagement=engagement,
        contact=contact,
        signed_name="Pat",
        consent_text="I agree.",
        signed_at=timezone.now(),
        letter_sha256="2" * 64,
        letter_filename="letter.pdf",
        letter_name="private/letters/x.pdf",
    )


def _billing_samples(organization, user, *, client, engagement) -> None:
    from decimal import Decimal

    from advisoros.tenancy.models import Membership
    from billing.models import (
        BillingSettings,
        EngagementRate,
        Invoice,
        InvoiceLine,
        MemberRate,
        Payment,
        RecurringInvoice,
        RecurringInvoiceLine,
        Refund,
        TimeEntry,
        Timer,
    )
    from integrations.stripe.models import CheckoutSession, StripeAccount, StripeEvent

    today = timezone.localdate()
    membership = Membership.objects.get(organization=organization, user=user)
    BillingSettings.objects.create(organization=organization)
    MemberRate.objects.create(
        organization=organization, membership=membership, billing_rate=Decimal("200")
    )
    EngagementRate.objects.create(
        organization=organization, engagement=engagement, billing_rate=Decimal("180")
    )
    Timer.objects.create(organization=organization, user=user, client=client)
    recurring = RecurringInvoice.objects.create(
        organization=organization, client=client, engagement=engagement, next_date=today
    )
    RecurringInvoiceLine.objects.create(
        organization=organization,
        recurring=recurring,
        description="Monthly bookkeeping",
        unit_price=Decimal("500"),
    )
    invoice = Invoice.objects.create(
        organization=organization,
        client=client,
        engagement=engagement,
        number=1,
        status="sent",
        issue_date=today,
        due_date=today,
        subtotal=Decimal("100"),
        total=Decimal("100"),
        amount_paid=Decimal("50"),
    )
    line = InvoiceLine.objects.create(
        organization=organization,
        invoice=invoice,
        kind="time",
        description="Bookkeeping",
        unit_price=Decimal("100"),
        amount=Decimal("100"),
        standard_amount=Decimal("120"),
    )
    TimeEntry.objects.create(
        organization=organization,
        user=user,
        client=client,
        engagement=engagement,
        date=today,
        minutes=36,
        rate=Decimal("200"),
        invoice_line=line,
    )
    payment = Payment.objects.create(
        organization=organization,
        invoice=invoice,
        client=client,
        amount=Decimal("50"),
        currency="USD",
        method="check",
        amount_refunded=Decimal("10"),
    )
    Refund.objects.create(organization=organization, payment=payment, amount=10)
    StripeAccount.objects.create(
        organization=organization, secret_key="sk_test_x", webhook_secret="whsec_x"
    )
    StripeEvent.objects.create(
        organization=organization,
        event_id=f"evt_{organization.pk}",
        type="checkout.session.completed",
        payload={},
    )
    CheckoutSession.objects.create(
        organization=organization,
        invoice=invoice,
        attempt=1,
        session_id=f"cs_{organization.pk}",
        url="https://checkout.example/x",
        amount=Decimal("50"),
        currency="USD",
    )


def _reports_samples(organization, user, *, client) -> None:
    from datetime import date
    from decimal import Decimal

    from reports.models import TrialBalanceImport
    from reports.services import AccountData, BalanceRow, trial_balance_record

    # LedgerAccount, TrialBalance, TrialBalanceLine
    trial_balance = trial_balance_record(
        client=client,
        period_end=date(2026, 1, 31),
        rows=[
            BalanceRow(
                AccountData("Checking", "Bank", number="1000"), debit=Decimal(5)
            ),
            BalanceRow(
                AccountData("Sales", "Income", number="4000"), credit=Decimal(5)
            ),
        ],
        source="csv",
        raw=[],
        user=user,
    )
    TrialBalanceImport.objects.create(
        organization=organization,
        client=client,
        created_by=user,
        period_end=date(2026, 1, 31),
        filename="tb.csv",
        content="account_name,account_type,debit,credit\nChecking,Bank,5,\nSales,Income,,5\n",
        trial_balance=trial_balance,
    )
    from reports.models import StatementOutput, StatementSchedule, StatementTemplate

    template = StatementTemplate.objects.create(
        organization=organization, client=client
    )
    schedule = StatementSchedule.objects.create(
        organization=organization, client=client, first_period_end=date(2026, 1, 31)
    )
    StatementOutput.objects.create(
        organization=organization,
        client=client,
        kind="profit_and_loss",
        period_end=date(2026, 1, 31),
        template=template,
        format="pdf",
        schedule=schedule,
        created_by=user,
    )
