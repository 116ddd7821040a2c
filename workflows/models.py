"""The firm's work: templates of steps, executions of them for clients, and tasks.

A WorkflowTemplate's StepTemplates (with dependencies between steps of the same
template) expand into a WorkflowExecution's Tasks (`workflows.services.executions
.execution_start`). A task is ready when every task it depends on is completed or
skipped; the execution completes when no task is left open. A RecurringSchedule
creates the executions of coming periods ahead of time, at most one per period
(a unique constraint, not a hope).
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Coalesce

from advisoros.overdue import is_overdue
from advisoros.tenancy.models import Role, TenantModel
from clients.models import NO_DUE_DATE, Client, Engagement, Priority, choice_label

USER = settings.AUTH_USER_MODEL


class TemplateCategory(models.TextChoices):
    TAX = "tax", "Tax"
    BOOKKEEPING = "bookkeeping", "Bookkeeping"
    PAYROLL = "payroll", "Payroll"
    ADVISORY = "advisory", "Advisory"
    ONBOARDING = "onboarding", "Onboarding"
    YEAR_END = "year_end", "Year-end"
    COMPLIANCE = "compliance", "Compliance"
    OTHER = "other", "Other"


class AssigneeRule(models.TextChoices):
    PARTNER = "partner", "Engagement partner"
    MANAGER = "manager", "Engagement manager"
    PREPARER = "preparer", "Engagement preparer"
    REVIEWER = "reviewer", "Engagement reviewer"
    PERSON = "person", "A named person"
    ROLE = "role", "Anyone with a role"
    UNASSIGNED = "unassigned", "Nobody (assign later)"


class DueFrom(models.TextChoices):
    START = "start", "the workflow's start date"
    DUE = "due", "the workflow's due date"


class CompletesOn(models.TextChoices):
    """Events that complete a task by themselves (automation)."""

    MANUAL = "", "Completed by a person"
    REQUEST_ITEM_FULFILLED = (
        "request_item_fulfilled",
        "A document request item is accepted",
    )
    REQUEST_FULFILLED = "request_fulfilled", "Every item of a document request accepted"
    LETTER_ACCEPTED = "letter_accepted", "The engagement letter is accepted"
    INVOICE_PAID = "invoice_paid", "The invoice is paid"


class TaskStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # waiting for the tasks it depends on
    READY = "ready", "Ready"
    IN_PROGRESS = "in_progress", "In progress"
    IN_REVIEW = "in_review", "In review"
    COMPLETED = "completed", "Completed"
    SKIPPED = "skipped", "Skipped"
    CANCELLED = "cancelled", "Cancelled"


DONE_STATUSES = (TaskStatus.COMPLETED, TaskStatus.SKIPPED)
CLOSED_STATUSES = (*DONE_STATUSES, TaskStatus.CANCELLED)
# Tasks still to do (pending ones wait for others): overdue once past their
# due date (advisoros.overdue).
OPEN_STATUSES = (
    TaskStatus.PENDING,
    TaskStatus.READY,
    TaskStatus.IN_PROGRESS,
    TaskStatus.IN_REVIEW,
)


class ExecutionStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


# Workflows still running (the list's default, and its partial index).
OPEN_EXECUTION_STATUSES = (ExecutionStatus.ACTIVE, ExecutionStatus.PAUSED)


class WorkflowTemplate(TenantModel):
    name = models.CharField(max_length=200)
    category = models.CharField(
        max_length=16, choices=TemplateCategory.choices, default="other"
    )
    description = models.TextField(blank=True)
    is_active = models.BooleanField("active", default=True)
    # Bumped by every edit of the template or its steps; executions keep the
    # version they were started from.
    version = models.PositiveIntegerField(default=1)
    # The starter library entry it was copied from ("1040", "monthly_close"), if any.
    starter_key = models.CharField(max_length=40, blank=True)
    created_by = models.ForeignKey(
        USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta(TenantModel.Meta):
        ordering = ["name"]
        indexes = [
            # TenantModel's default name would pass PostgreSQL's 30-character limit.
            models.Index(
                fields=["organization", "created_at"], name="wftemplate_org_created"
            ),
            models.Index(
                fields=["organization", "is_active", "name"],
                name="wftemplate_org_active",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class StepTemplate(TenantModel):
    template = models.ForeignKey(
        WorkflowTemplate, on_delete=models.CASCADE, related_name="steps"
    )
    position = models.PositiveSmallIntegerField(default=0)
    title = models.CharField(max_length=200)
    instructions = models.TextField(blank=True)
    checklist = models.JSONField(default=list, blank=True)  # ["item", ...]
    assignee_rule = models.CharField(
        max_length=12, choices=AssigneeRule.choices, default="unassigned"
    )
    assignee_user = models.ForeignKey(
        USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    assignee_role = models.CharField(max_length=12, choices=Role.choices, blank=True)
    due_offset_days = models.IntegerField(
        default=0, validators=[MinValueValidator(-366), MaxValueValidator(366)]
    )
    due_from = models.CharField(max_length=5, choices=DueFrom.choices, default="start")
    budgeted_minutes = models.PositiveIntegerField(default=0)
    needs_approval = models.BooleanField(default=False)
    completes_on = models.CharField(
        max_length=24, choices=CompletesOn.choices, blank=True, default=""
    )
    depends_on = models.ManyToManyField(
        "self",
        through="StepDependency",
        symmetrical=False,
        related_name="dependents",
        blank=True,
    )

    class Meta(TenantModel.Meta):
        ordering = ["position", "id"]
        indexes = [
            models.Index(
                fields=["organization", "created_at"], name="steptemplate_org_created"
            ),
            models.Index(fields=["template", "position"], name="steptemplate_position"),
        ]

    def __str__(self) -> str:
        return self.title


class StepDependency(TenantModel):
    """`step` cannot start before `depends_on` is done (same template only)."""

    step = models.ForeignKey(
        StepTemplate, on_delete=models.CASCADE, related_name="dependency_links"
    )
    depends_on = models.ForeignKey(
        StepTemplate, on_delete=models.CASCADE, related_name="dependent_links"
    )

    class Meta(TenantModel.Meta):
        indexes = [
            models.Index(
                fields=["organization", "created_at"], name="stepdep_org_created"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["step", "depends_on"], name="stepdependency_unique"
            ),
            models.CheckConstraint(
                condition=~models.Q(step=models.F("depends_on")),
                name="stepdependency_not_self",
            ),
        ]


class RecurringSchedule(TenantModel):
    """Creates a client's executions of a template for coming periods, ahead of time."""

    class Frequency(models.TextChoices):
        MONTHLY = "monthly", "Monthly"
        QUARTERLY = "quarterly", "Quarterly"
        YEARLY = "yearly", "Yearly"
        RRULE = "rrule", "Custom rule (RFC 5545 RRULE)"

    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="recurring_schedules"
    )
    engagement = models.ForeignKey(
        Engagement, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    template = models.ForeignKey(
        WorkflowTemplate, on_delete=models.PROTECT, related_name="schedules"
    )
    frequency = models.CharField(max_length=10, choices=Frequency.choices)
    rrule = models.CharField(max_length=300, blank=True)
    starts_on = models.DateField(help_text="The first period starts on this date.")
    ends_on = models.DateField(null=True, blank=True)
    # Create the execution of a period this many days before the period starts.
    create_days_ahead = models.PositiveSmallIntegerField(default=14)
    # The execution's due date: this many days after its period ends.
    due_days_after_period = models.PositiveSmallIntegerField(default=15)
    is_active = models.BooleanField("active", default=True)
    created_by = models.ForeignKey(
        USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    last_run_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantModel.Meta):
        indexes = [
            models.Index(
                fields=["organization", "created_at"], name="recurring_org_created"
            ),
            models.Index(
                fields=["organization", "is_active"], name="recurring_org_active"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.template} for {self.client} ({self.get_frequency_display()})"


class WorkflowExecution(TenantModel):
    template = models.ForeignKey(
        WorkflowTemplate,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="executions",
    )
    template_version = models.PositiveIntegerField(default=1)
    name = models.CharField(max_length=200)
    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="workflow_executions"
    )
    engagement = models.ForeignKey(
        Engagement,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="workflow_executions",
    )
    status = models.CharField(
        max_length=10, choices=ExecutionStatus.choices, default="active"
    )
    start_date = models.DateField()
    due_date = models.DateField(null=True, blank=True)
    # Kept by the task services, so lists show progress without counting tasks.
    tasks_total = models.PositiveIntegerField(default=0)
    tasks_done = models.PositiveIntegerField(default=0)
    recurring_schedule = models.ForeignKey(
        RecurringSchedule,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="executions",
    )
    period_start = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(
        USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    # The workflow list's keyset: the due date with undated workflows last. A
    # stored column, not an expression: under row-level security PostgreSQL will
    # not use COALESCE as an index condition (see clients.models.NO_DUE_DATE).
    due_sort = models.GeneratedField(
        expression=Coalesce("due_date", models.Value(NO_DUE_DATE)),
        output_field=models.DateField(),
        db_persist=True,
    )

    class Meta(TenantModel.Meta):
        constraints = [
            # A recurring schedule makes at most one execution per period.
            models.UniqueConstraint(
                fields=["recurring_schedule", "period_start"],
                name="execution_one_per_period",
            ),
        ]
        indexes = [
            models.Index(
                fields=["organization", "created_at"], name="execution_org_created"
            ),
            models.Index(
                fields=["organization", "status", "due_date"],
                name="execution_org_status_due",
            ),
            models.Index(
                fields=["client", "status", "due_date"],
                name="execution_client_status",
            ),
            # The workflow list (workflows.views.executions): open ones by due
            # date (the default), one status by due date.
            models.Index(
                fields=["organization", "due_sort", "id"],
                condition=models.Q(status__in=["active", "paused"]),
                name="execution_org_open_due",
            ),
            models.Index(
                fields=["organization", "status", "due_sort", "id"],
                name="execution_org_status_sort",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def overdue_on(self, today: date) -> bool:
        return is_overdue(
            self.due_date,
            self.status,
            today=today,
            open_statuses=OPEN_EXECUTION_STATUSES,
        )

    @property
    def progress_percent(self) -> int:
        if not self.tasks_total:
            return 0
        return round(100 * self.tasks_done / self.tasks_total)


class Task(TenantModel):
    execution = models.ForeignKey(
        WorkflowExecution,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="tasks",
    )
    # Ad-hoc tasks on their own still belong to a client when they concern one.
    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, null=True, blank=True, related_name="tasks"
    )
    step_template = models.ForeignKey(
        StepTemplate, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    step_index = models.PositiveSmallIntegerField(null=True, blank=True)
    title = models.CharField(max_length=200)
    instructions = models.TextField(blank=True)
    assignee = models.ForeignKey(
        USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="tasks"
    )
    due_date = models.DateField(null=True, blank=True)
    # The engagement's scale (clients.models.Priority): a task starts with its
    # engagement's priority.
    priority = models.CharField(
        max_length=8, choices=Priority.choices, default="normal"
    )
    status = models.CharField(
        max_length=12, choices=TaskStatus.choices, default="pending"
    )
    checklist = models.JSONField(default=list, blank=True)  # [{"text", "done"}]
    budgeted_minutes = models.PositiveIntegerField(default=0)
    actual_minutes = models.PositiveIntegerField(default=0)
    scheduled_for = models.DateTimeField(null=True, blank=True)
    needs_approval = models.BooleanField(default=False)
    completes_on = models.CharField(
        max_length=24, choices=CompletesOn.choices, blank=True, default=""
    )
    # What the automation waits for (e.g. the request item whose acceptance
    # completes the task), as "<app>.<model>:<id>".
    completes_on_target = models.CharField(max_length=80, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    approved_by = models.ForeignKey(
        USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    depends_on = models.ManyToManyField(
        "self",
        through="TaskDependency",
        symmetrical=False,
        related_name="dependents",
        blank=True,
    )

    class Meta(TenantModel.Meta):
        indexes = [
            *TenantModel.Meta.indexes,
            # From the seed's design.
            models.Index(fields=["execution", "step_index"], name="task_exec_step"),
            models.Index(fields=["status", "scheduled_for"], name="task_status_sched"),
            models.Index(fields=["priority", "status"], name="task_priority_status"),
            # The dashboard's "Due this week": the firm's open tasks in due
            # order from a day, so the first few are read without sorting the
            # week's hundreds (the index conditions are plain columns, which
            # PostgreSQL uses under row-level security).
            models.Index(
                fields=["organization", "due_date", "id"],
                name="task_open_due",
                condition=models.Q(
                    status__in=list(OPEN_STATUSES),
                    due_date__isnull=False,
                ),
            ),
            # My work: a person's open tasks by due date.
            models.Index(
                fields=["organization", "assignee", "status", "due_date"],
                name="task_org_assignee_due",
            ),
            # The board and the workload page.
            models.Index(
                fields=["organization", "status", "due_date"],
                name="task_org_status_due",
            ),
            models.Index(
                fields=["organization", "completes_on", "completes_on_target"],
                name="task_org_automation",
                condition=~models.Q(completes_on=""),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status not in CLOSED_STATUSES

    def overdue_on(self, today: date) -> bool:
        return is_overdue(
            self.due_date, self.status, today=today, open_statuses=OPEN_STATUSES
        )

    @property
    def status_label(self) -> str:
        return choice_label(TaskStatus, self.status)

    @property
    def priority_label(self) -> str:
        return choice_label(Priority, self.priority)


class TaskDependency(TenantModel):
    task = models.ForeignKey(
        Task, on_delete=models.CASCADE, related_name="dependency_links"
    )
    depends_on = models.ForeignKey(
        Task, on_delete=models.CASCADE, related_name="dependent_links"
    )

    class Meta(TenantModel.Meta):
        indexes = [
            models.Index(
                fields=["organization", "created_at"], name="taskdep_org_created"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["task", "depends_on"], name="taskdependency_unique"
            ),
            models.CheckConstraint(
                condition=~models.Q(task=models.F("depends_on")),
                name="taskdependency_not_self",
            ),
        ]


class TaskComment(TenantModel):
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        USER, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    body = models.TextField()

    class Meta(TenantModel.Meta):
        ordering = ["created_at"]
        indexes = [
            models.Index(
                fields=["organization", "created_at"], name="taskcomment_org_created"
            ),
            models.Index(fields=["task", "created_at"], name="taskcomment_task"),
        ]


class Notification(TenantModel):
    """An in-app notice (the bell); emailed in batches by a scheduled job."""

    class Kind(models.TextChoices):
        ASSIGNED = "assigned", "Assigned to you"
        DUE_SOON = "due_soon", "Due soon"
        OVERDUE = "overdue", "Overdue"
        READY = "ready", "Ready to start"
        REVIEW = "review", "Waiting for your review"
        COMMENT = "comment", "New comment"

    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    task = models.ForeignKey(
        Task, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    title = models.CharField(max_length=200)
    url = models.CharField(max_length=300, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantModel.Meta):
        ordering = ["-created_at"]
        constraints = [
            # One due-soon / overdue notice per task and person (jobs rerun safely).
            models.UniqueConstraint(
                fields=["user", "task", "kind"],
                condition=models.Q(kind__in=["due_soon", "overdue"]),
                name="notification_once_per_task_kind",
            ),
        ]
        indexes = [
            models.Index(
                fields=["organization", "created_at"], name="notification_org_created"
            ),
            models.Index(
                fields=["organization", "user", "read_at"],
                name="notification_unread",
            ),
            models.Index(
                fields=["emailed_at", "created_at"],
                name="notification_to_email",
                condition=models.Q(emailed_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return self.title
