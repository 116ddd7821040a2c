"""The starter library: templates a firm copies and then edits as its own.

Written the way a CPA firm runs the work: who does each step (the engagement's
partner, manager, preparer or reviewer, or the least busy member of a role),
when it is due (days from the workflow's start, or before its due date), what it
should take, what it waits for (parallel branches where the work allows), which
review steps need someone else's approval, and which steps complete themselves
when an event happens (the engagement letter accepted, the document request
fulfilled, the invoice paid).

`starter_copy` turns an entry into the firm's own template in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction

from advisoros.accounts.models import User
from advisoros.tenancy.models import Organization
from workflows.models import (
    AssigneeRule,
    CompletesOn,
    DueFrom,
    StepDependency,
    StepTemplate,
    TemplateCategory,
    WorkflowTemplate,
)


@dataclass(frozen=True)
class StarterStep:
    title: str
    assignee: str  # an AssigneeRule, or "role:<role>"
    offset: int  # days from the start ("start") or the due date ("due")
    due_from: str = DueFrom.START
    minutes: int = 0
    instructions: str = ""
    checklist: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    approval: bool = False
    completes_on: str = CompletesOn.MANUAL


@dataclass(frozen=True)
class StarterTemplate:
    key: str
    name: str
    category: str
    description: str
    steps: tuple[StarterStep, ...] = field(default_factory=tuple)

    @property
    def step_count(self) -> int:
        return len(self.steps)

    @property
    def budgeted_hours(self) -> float:
        return round(sum(s.minutes for s in self.steps) / 60, 1)


S = StarterStep
PARTNER, MANAGER = AssigneeRule.PARTNER, AssigneeRule.MANAGER
PREPARER, REVIEWER = AssigneeRule.PREPARER, AssigneeRule.REVIEWER
STAFF = "role:staff"
DUE = DueFrom.DUE
LETTER = CompletesOn.LETTER_ACCEPTED
DOCUMENTS = CompletesOn.REQUEST_FULFILLED
PAID = CompletesOn.INVOICE_PAID


def _letter(offset: int = 0) -> StarterStep:
    return S(
        "Send the engagement letter",
        MANAGER,
        offset,
        minutes=15,
        instructions="Send this year's engagement letter from the engagement page. "
        "The step completes by itself when the client accepts it.",
        checklist=(
            "Scope, fee and deadlines match the engagement",
            "Letter sent to every signer",
        ),
        completes_on=LETTER,
    )


def _collect(after: tuple[str, ...], offset: int, what: str) -> StarterStep:
    return S(
        "Collect client documents",
        PREPARER,
        offset,
        minutes=30,
        instructions=f"Follow up on the document request until {what} is in. "
        "The step completes by itself when every requested item is accepted.",
        checklist=(
            "Every requested item received or marked not applicable",
            "Documents filed under the right tax year",
        ),
        after=after,
        completes_on=DOCUMENTS,
    )


def _bill(after: tuple[str, ...], offset: int, due_from: str = DUE) -> StarterStep:
    return S(
        "Invoice and collect the fee",
        MANAGER,
        offset,
        due_from=due_from,
        minutes=10,
        instructions="Invoice the engagement's fee. The step completes by itself "
        "when the invoice is paid.",
        after=after,
        completes_on=PAID,
    )


INDIVIDUAL_1040 = StarterTemplate(
    key="1040",
    name="Individual income tax return (1040)",
    category=TemplateCategory.TAX,
    description="A personal return from engagement letter to IRS acceptance. "
    "Start it in January with the filing deadline as the due date.",
    steps=(
        _letter(),
        S(
            "Send the tax organizer and document request",
            PREPARER,
            2,
            minutes=20,
            instructions="Send the organizer and a document request built from "
            "last year's return (W-2s, 1099s, 1098s, K-1s, childcare, estimates paid).",
            checklist=(
                "Organizer sent",
                "Document request lists last year's forms",
                "Asked about life changes: marriage, children, move, home sale",
            ),
        ),
        S(
            "Review last year's return and carryovers",
            PREPARER,
            10,
            minutes=30,
            instructions="Note carryovers (capital losses, passive losses, "
            "charitable, NOL), estimated payments and last year's preparer notes.",
            checklist=(
                "Carryovers listed",
                "Estimated payments confirmed with IRS transcript",
                "Last year's review notes read",
            ),
            after=("Send the engagement letter",),
        ),
        _collect(("Send the tax organizer and document request",), 30, "everything"),
        S(
            "Prepare the return",
            PREPARER,
            -21,
            due_from=DUE,
            minutes=180,
            instructions="Prepare the federal and state returns; leave review notes "
            "for anything unusual.",
            checklist=(
                "All W-2 / 1099 / 1098 / K-1 amounts tie to source documents",
                "Dependents and filing status checked",
                "Estimated payments and carryovers entered",
                "State returns prepared",
                "Diagnostics cleared",
            ),
            after=(
                "Collect client documents",
                "Review last year's return and carryovers",
            ),
        ),
        S(
            "Review the return",
            REVIEWER,
            -14,
            due_from=DUE,
            minutes=60,
            instructions="Review against the source documents and last year. "
            "Send it back with notes, or approve it.",
            checklist=(
                "Year-over-year comparison explained",
                "Preparer's notes cleared",
                "Refund or balance due reasonable",
            ),
            after=("Prepare the return",),
            approval=True,
        ),
        S(
            "Send the return for signature (Form 8879)",
            PREPARER,
            -10,
            due_from=DUE,
            minutes=15,
            instructions="Send the client copy and Form 8879 for e-signature, with "
            "the payment or refund summary.",
            after=("Review the return",),
        ),
        _bill(("Review the return",), -10),
        S(
            "E-file the return",
            PREPARER,
            -3,
            due_from=DUE,
            minutes=15,
            instructions="E-file once the signed 8879 is in; file the extension "
            "instead if the client cannot sign before the deadline.",
            checklist=("Signed 8879 on file", "Federal e-filed", "State e-filed"),
            after=("Send the return for signature (Form 8879)",),
        ),
        S(
            "Confirm acceptance and close out",
            PREPARER,
            7,
            due_from=DUE,
            minutes=10,
            instructions="Confirm IRS and state acceptance; send the client their "
            "copy and next year's estimated payment vouchers.",
            checklist=(
                "IRS acceptance received",
                "State acceptance received",
                "Client copy and vouchers sent",
            ),
            after=("E-file the return",),
        ),
    ),
)


def _business_return(
    key: str,
    name: str,
    form: str,
    signature_form: str,
    description: str,
    middle: tuple[StarterStep, ...],
    prepare_checklist: tuple[str, ...],
    deliver: str,
) -> StarterTemplate:
    middle_titles = tuple(s.title for s in middle)
    return StarterTemplate(
        key=key,
        name=name,
        category=TemplateCategory.TAX,
        description=description,
        steps=(
            _letter(),
            S(
                "Request year-end documents",
                PREPARER,
                2,
                minutes=20,
                instructions="Request the year-end trial balance, bank and loan "
                "statements, fixed asset additions, payroll reports and owner "
                "information.",
                checklist=(
                    "Trial balance and general ledger requested",
                    "Bank, credit card and loan statements at year-end",
                    "Fixed asset purchases and sales",
                    "Ownership changes during the year",
                ),
                after=("Send the engagement letter",),
            ),
            _collect(("Request year-end documents",), 21, "the year-end package"),
            S(
                "Reconcile the books and post adjusting entries",
                PREPARER,
                30,
                minutes=120,
                instructions="Tie the trial balance to bank statements and last "
                "year's return; propose adjusting journal entries to the client.",
                checklist=(
                    "Opening balances tie to last year's return",
                    "Cash, loans and payroll liabilities reconciled",
                    "Adjusting entries approved by the client",
                ),
                after=("Collect client documents",),
            ),
            *middle,
            S(
                f"Prepare Form {form}",
                PREPARER,
                -21,
                due_from=DUE,
                minutes=240,
                instructions=f"Prepare Form {form} and the state returns.",
                checklist=prepare_checklist,
                after=(
                    "Reconcile the books and post adjusting entries",
                    *middle_titles,
                ),
            ),
            S(
                "Review the return",
                REVIEWER,
                -14,
                due_from=DUE,
                minutes=90,
                instructions="Detail review against the workpapers; send back with "
                "notes or approve.",
                checklist=(
                    "Book-to-tax reconciliation reviewed",
                    "Prior-year comparison explained",
                    "Workpapers support every schedule",
                ),
                after=(f"Prepare Form {form}",),
                approval=True,
            ),
            S(
                "Partner sign-off",
                PARTNER,
                -10,
                due_from=DUE,
                minutes=30,
                instructions="Final read of the return and the review notes.",
                after=("Review the return",),
                approval=True,
            ),
            S(
                f"Get the signed Form {signature_form}",
                PREPARER,
                -7,
                due_from=DUE,
                minutes=15,
                instructions=f"Send the return and Form {signature_form} to the "
                "officer or partner who signs.",
                after=("Partner sign-off",),
            ),
            _bill(("Partner sign-off",), -7),
            S(
                "E-file and deliver",
                PREPARER,
                -2,
                due_from=DUE,
                minutes=20,
                instructions=deliver,
                checklist=(
                    "Federal e-filed and accepted",
                    "State returns e-filed",
                    "Client copy delivered",
                ),
                after=(f"Get the signed Form {signature_form}",),
            ),
        ),
    )


S_CORP_1120S = _business_return(
    "1120s",
    "S corporation return (1120-S)",
    "1120-S",
    "8879-S",
    "An S corporation's return with shareholder K-1s, due March 15.",
    middle=(
        S(
            "Shareholder basis and distributions (Form 7203)",
            PREPARER,
            30,
            minutes=60,
            instructions="Roll forward each shareholder's stock and debt basis; "
            "flag distributions in excess of basis.",
            checklist=(
                "Basis rolled forward for every shareholder",
                "Distributions pro rata to ownership",
                "Shareholder loans documented",
            ),
            after=("Collect client documents",),
        ),
        S(
            "Reasonable compensation check",
            MANAGER,
            30,
            minutes=20,
            instructions="Compare the shareholder-employees' W-2 wages with the "
            "distributions and the role they play.",
            after=("Collect client documents",),
        ),
    ),
    prepare_checklist=(
        "Schedules K and K-1 prepared for every shareholder",
        "Schedule M-1 / M-2 and AAA roll forward",
        "Form 7203 attached where needed",
        "State composite or PTE elections considered",
    ),
    deliver="E-file the 1120-S and send each shareholder their K-1 by the deadline.",
)

C_CORP_1120 = _business_return(
    "1120",
    "C corporation return (1120)",
    "1120",
    "8879-CORP",
    "A C corporation's income tax return, due the 15th day of the fourth month.",
    middle=(
        S(
            "Fixed assets and depreciation (Form 4562)",
            PREPARER,
            30,
            minutes=45,
            instructions="Add the year's purchases, record disposals, and decide "
            "Section 179 and bonus depreciation with the manager.",
            after=("Collect client documents",),
        ),
        S(
            "Book-to-tax differences and estimated payments",
            PREPARER,
            30,
            minutes=45,
            instructions="List the M-1 / M-3 differences; reconcile the estimated "
            "payments made and compute next year's.",
            after=("Collect client documents",),
        ),
    ),
    prepare_checklist=(
        "Schedule M-1 (or M-3) reconciles book income",
        "Schedule L balances tie to the trial balance",
        "Estimated tax penalty (Form 2220) checked",
        "Next year's estimates computed",
    ),
    deliver="E-file the 1120 and send the client the return with next year's "
    "estimated payment schedule.",
)

PARTNERSHIP_1065 = _business_return(
    "1065",
    "Partnership return (1065)",
    "1065",
    "8879-PE",
    "A partnership's return with partner K-1s (and K-2/K-3 where needed), due "
    "March 15.",
    middle=(
        S(
            "Capital accounts and allocations",
            PREPARER,
            30,
            minutes=60,
            instructions="Roll forward tax-basis capital accounts and allocate "
            "income per the partnership agreement; record guaranteed payments.",
            checklist=(
                "Tax-basis capital roll forward for every partner",
                "Special allocations follow the agreement",
                "Guaranteed payments and self-employment income",
            ),
            after=("Collect client documents",),
        ),
        S(
            "Schedules K-2 and K-3 applicability",
            MANAGER,
            30,
            minutes=15,
            instructions="Decide whether the domestic filing exception applies; "
            "send the partner notices if it does.",
            after=("Collect client documents",),
        ),
    ),
    prepare_checklist=(
        "Schedules K and K-1 prepared for every partner",
        "Schedule M-1 / M-2 reconcile",
        "Partner basis worksheets updated",
        "State composite or withholding returns considered",
    ),
    deliver="E-file the 1065 and deliver each partner their K-1 by the deadline.",
)

MONTHLY_CLOSE = StarterTemplate(
    key="monthly_close",
    name="Monthly bookkeeping close",
    category=TemplateCategory.BOOKKEEPING,
    description="Close a client's month: feeds, categorisation, reconciliations, "
    "review and the statements. Start it the day after the month ends.",
    steps=(
        S(
            "Import bank and card feeds",
            PREPARER,
            2,
            minutes=15,
            instructions="Refresh the bank and credit card feeds; download "
            "statements for accounts without a feed.",
            checklist=("Every account's feed current to month end",),
        ),
        S(
            "Request missing receipts and statements",
            PREPARER,
            3,
            minutes=15,
            instructions="Ask the client for receipts over the firm's threshold "
            "and any missing statements. Completes when the request is fulfilled.",
            completes_on=DOCUMENTS,
        ),
        S(
            "Categorise transactions",
            PREPARER,
            5,
            minutes=60,
            instructions="Code every transaction; ask the client about the ones "
            "you cannot place.",
            checklist=("Uncategorised account is empty", "Questions sent to client"),
            after=("Import bank and card feeds",),
        ),
        S(
            "Reconcile bank and card accounts",
            PREPARER,
            7,
            minutes=45,
            instructions="Reconcile every bank and credit card account to the "
            "month-end statement.",
            checklist=(
                "All accounts reconciled to statements",
                "Old uncleared items investigated",
            ),
            after=(
                "Categorise transactions",
                "Request missing receipts and statements",
            ),
        ),
        S(
            "Review receivables and payables",
            PREPARER,
            7,
            minutes=20,
            instructions="Read the AR and AP agings; flag old items and credits.",
            after=("Import bank and card feeds",),
        ),
        S(
            "Tie out payroll and sales tax liabilities",
            PREPARER,
            7,
            minutes=20,
            instructions="Agree payroll and sales tax liability accounts to the "
            "filings and payments.",
            after=("Import bank and card feeds",),
        ),
        S(
            "Post accruals, prepaids and depreciation",
            PREPARER,
            9,
            minutes=20,
            after=("Reconcile bank and card accounts",),
        ),
        S(
            "Manager review of the financial statements",
            MANAGER,
            -3,
            due_from=DUE,
            minutes=30,
            instructions="Read the P&L and balance sheet against last month and "
            "budget; send back or approve.",
            checklist=(
                "Balance sheet accounts supported",
                "Unusual swings explained",
            ),
            after=(
                "Post accruals, prepaids and depreciation",
                "Review receivables and payables",
                "Tie out payroll and sales tax liabilities",
            ),
            approval=True,
        ),
        S(
            "Send the financial statements",
            PREPARER,
            0,
            due_from=DUE,
            minutes=10,
            instructions="Send the statements and open questions to the client; "
            "lock the period.",
            checklist=("Statements sent", "Period locked"),
            after=("Manager review of the financial statements",),
        ),
    ),
)

QUARTERLY_ESTIMATES = StarterTemplate(
    key="quarterly_estimates",
    name="Quarterly estimated taxes",
    category=TemplateCategory.TAX,
    description="Project the year and set the quarter's federal and state "
    "estimated payments (1040-ES). Due date: the payment deadline.",
    steps=(
        S(
            "Request year-to-date income",
            PREPARER,
            0,
            minutes=10,
            instructions="Ask for year-to-date pay stubs, business profit and "
            "investment income. Completes when the request is fulfilled.",
            completes_on=DOCUMENTS,
        ),
        S(
            "Check payments already credited",
            PREPARER,
            2,
            minutes=10,
            instructions="Read the IRS account (and the state's) for the estimated "
            "payments credited so far this year.",
        ),
        S(
            "Project the year's tax",
            PREPARER,
            -10,
            due_from=DUE,
            minutes=45,
            instructions="Project the year and compare with the safe harbour "
            "(100% / 110% of last year's tax).",
            checklist=("Safe harbour computed", "Withholding to date included"),
            after=("Request year-to-date income", "Check payments already credited"),
        ),
        S(
            "Review the projection",
            REVIEWER,
            -7,
            due_from=DUE,
            minutes=15,
            after=("Project the year's tax",),
            approval=True,
        ),
        S(
            "Send payment instructions",
            PREPARER,
            -5,
            due_from=DUE,
            minutes=15,
            instructions="Send the federal and state amounts with how to pay "
            "(IRS Direct Pay / EFTPS, state portal).",
            checklist=("Federal voucher or amount sent", "State amount sent"),
            after=("Review the projection",),
        ),
        S(
            "Confirm the payment was made",
            PREPARER,
            3,
            due_from=DUE,
            minutes=5,
            after=("Send payment instructions",),
        ),
    ),
)

PAYROLL_941 = StarterTemplate(
    key="941",
    name="Payroll quarter (941)",
    category=TemplateCategory.PAYROLL,
    description="File the quarter's Form 941 and state payroll returns. Due "
    "date: the last day of the month after the quarter.",
    steps=(
        S(
            "Reconcile payroll registers to the ledger",
            STAFF,
            1,
            minutes=45,
            instructions="Agree the quarter's gross wages, taxes and net pay to "
            "the general ledger.",
            checklist=("Gross wages agree", "Employer taxes agree"),
        ),
        S(
            "Verify federal tax deposits",
            STAFF,
            3,
            minutes=20,
            instructions="Match EFTPS deposits with the liability for each "
            "deposit period.",
            after=("Reconcile payroll registers to the ledger",),
        ),
        S(
            "Prepare Form 941",
            STAFF,
            -10,
            due_from=DUE,
            minutes=30,
            after=("Verify federal tax deposits",),
        ),
        S(
            "Prepare state withholding and unemployment returns",
            STAFF,
            -10,
            due_from=DUE,
            minutes=30,
            after=("Reconcile payroll registers to the ledger",),
        ),
        S(
            "Review the payroll returns",
            MANAGER,
            -5,
            due_from=DUE,
            minutes=20,
            after=(
                "Prepare Form 941",
                "Prepare state withholding and unemployment returns",
            ),
            approval=True,
        ),
        S(
            "File the returns and keep the confirmations",
            STAFF,
            -2,
            due_from=DUE,
            minutes=15,
            checklist=("941 filed", "State returns filed", "Confirmations saved"),
            after=("Review the payroll returns",),
        ),
    ),
)

ONBOARDING = StarterTemplate(
    key="onboarding",
    name="New client onboarding",
    category=TemplateCategory.ONBOARDING,
    description="From yes to ready: acceptance, engagement letter, access, "
    "documents and the kickoff meeting.",
    steps=(
        S(
            "Conflict check and client acceptance",
            PARTNER,
            2,
            minutes=20,
            instructions="Check conflicts of interest and the firm's acceptance "
            "criteria; approve taking the client on.",
            checklist=("Conflict search done", "Risk level set on the client"),
            approval=True,
        ),
        _letter(3),
        S(
            "Collect ID, prior returns and statements",
            PREPARER,
            14,
            minutes=20,
            instructions="Request photo ID, the last three years' returns and "
            "recent statements. Completes when the request is fulfilled.",
            after=("Send the engagement letter",),
            completes_on=DOCUMENTS,
        ),
        S(
            "Set up portal and software access",
            "role:staff",
            7,
            minutes=30,
            instructions="Invite the client's contacts to the portal; connect "
            "their accounting software.",
            checklist=("Portal invitations sent", "Accounting software connected"),
            after=("Send the engagement letter",),
        ),
        S(
            "IRS authorisations (Form 8821 / 2848)",
            PREPARER,
            10,
            minutes=15,
            after=("Send the engagement letter",),
        ),
        S(
            "Kickoff meeting",
            MANAGER,
            21,
            minutes=60,
            instructions="Walk the client through the year's calendar, who to "
            "call and how to send documents.",
            after=(
                "Collect ID, prior returns and statements",
                "Set up portal and software access",
            ),
        ),
        S(
            "Onboarding review",
            MANAGER,
            28,
            minutes=15,
            after=("Kickoff meeting", "IRS authorisations (Form 8821 / 2848)"),
            approval=True,
        ),
    ),
)

YEAR_END = StarterTemplate(
    key="year_end",
    name="Year-end close",
    category=TemplateCategory.YEAR_END,
    description="Close the client's fiscal year and hand clean books to the tax "
    "team. Due date: the handoff date.",
    steps=(
        S(
            "Send the year-end checklist and request",
            PREPARER,
            0,
            minutes=15,
            instructions="Request year-end statements, inventory counts, fixed "
            "asset purchases and vendor W-9s. Completes when fulfilled.",
            completes_on=DOCUMENTS,
        ),
        S(
            "Reconcile every balance sheet account",
            PREPARER,
            14,
            minutes=120,
            after=("Send the year-end checklist and request",),
        ),
        S(
            "Inventory and fixed assets",
            PREPARER,
            14,
            minutes=60,
            instructions="Record the count, additions, disposals and the year's "
            "depreciation.",
            after=("Send the year-end checklist and request",),
        ),
        S(
            "Cut-off, accruals and deferred revenue",
            PREPARER,
            18,
            minutes=45,
            after=("Reconcile every balance sheet account",),
        ),
        S(
            "1099 vendor review",
            "role:staff",
            10,
            minutes=30,
            instructions="List vendors paid $600+ in cash or check; chase W-9s; "
            "prepare 1099-NEC / MISC for the January 31 deadline.",
            checklist=("W-9 on file for every 1099 vendor", "1099s filed"),
        ),
        S(
            "Post year-end adjusting entries",
            PREPARER,
            -7,
            due_from=DUE,
            minutes=30,
            after=(
                "Cut-off, accruals and deferred revenue",
                "Inventory and fixed assets",
            ),
        ),
        S(
            "Manager review of year-end financials",
            MANAGER,
            -3,
            due_from=DUE,
            minutes=45,
            after=("Post year-end adjusting entries", "1099 vendor review"),
            approval=True,
        ),
        S(
            "Close the year and hand off to tax",
            PREPARER,
            0,
            due_from=DUE,
            minutes=15,
            instructions="Lock the period and send the trial balance to the tax team.",
            after=("Manager review of year-end financials",),
        ),
    ),
)

STARTERS: dict[str, StarterTemplate] = {
    t.key: t
    for t in (
        INDIVIDUAL_1040,
        S_CORP_1120S,
        C_CORP_1120,
        PARTNERSHIP_1065,
        MONTHLY_CLOSE,
        QUARTERLY_ESTIMATES,
        PAYROLL_941,
        ONBOARDING,
        YEAR_END,
    )
}


def _rule(assignee: str) -> tuple[str, str]:
    if assignee.startswith("role:"):
        return AssigneeRule.ROLE, assignee.removeprefix("role:")
    return assignee, ""


@transaction.atomic
def starter_copy(
    *, organization: Organization, key: str, by: User | None
) -> WorkflowTemplate:
    """The firm's own copy of a starter template, ready to edit."""
    starter = STARTERS.get(key)
    if starter is None:
        raise ValidationError("Choose a template from the starter library.")
    template = WorkflowTemplate.objects.create(
        organization=organization,
        name=starter.name,
        category=starter.category,
        description=starter.description,
        starter_key=starter.key,
        created_by=by,
    )
    steps = []
    for position, s in enumerate(starter.steps):
        rule, role = _rule(s.assignee)
        steps.append(
            StepTemplate(
                organization=organization,
                template=template,
                position=position,
                title=s.title,
                instructions=s.instructions,
                checklist=list(s.checklist),
                assignee_rule=rule,
                assignee_role=role,
                due_offset_days=s.offset,
                due_from=s.due_from,
                budgeted_minutes=s.minutes,
                needs_approval=s.approval,
                completes_on=s.completes_on,
            )
        )
    StepTemplate.objects.bulk_create(steps)
    by_title = {step.title: step for step in steps}
    StepDependency.objects.bulk_create(
        StepDependency(
            organization=organization,
            step=by_title[s.title],
            depends_on=by_title[before],
        )
        for s in starter.steps
        for before in s.after
    )
    return template
