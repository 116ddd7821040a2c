"""Forms of the workflow pages: templates and steps, starting a workflow, tasks.

Forms validate and normalise only; the services hold the rules. Every choice of
a person, a client, a template or a step is built from the request's firm and
posted as a uuid, so another firm's object is never a valid choice.
"""

from __future__ import annotations

from django import forms

from advisoros.accounts.models import User
from advisoros.tenancy.models import Membership, Organization, Role
from advisoros.widgets import FastSelect
from workflows.models import (
    AssigneeRule,
    CompletesOn,
    DueFrom,
    ExecutionStatus,
    Priority,
    StepTemplate,
    WorkflowTemplate,
)

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
WORKING_ROLES = [(r.value, r.label) for r in Role if r != Role.READONLY]


def working_members(organization: Organization) -> list[Membership]:
    """Active members who can be given tasks (not read-only), by name."""
    return list(
        Membership.objects.filter(organization=organization, is_active=True)
        .exclude(role=Role.READONLY)
        .select_related("user")
        .order_by("user__name", "user__email")
    )


class MemberChoiceField(forms.ChoiceField):
    """A person of the firm, posted as their user uuid; cleans to a User or None."""

    def __init__(self, *, members: list[Membership], empty: str, **kwargs):
        self._users = {str(m.user.uuid): m.user for m in members}
        choices = [("", empty), *((k, str(u)) for k, u in self._users.items())]
        super().__init__(choices=choices, widget=FastSelect, **kwargs)

    def clean(self, value) -> User | None:
        value = super().clean(value)
        return self._users.get(value) if value else None

    def prepare_value(self, value):
        if isinstance(value, User):
            return str(value.uuid)
        return value


# Templates -----------------------------------------------------------------------


class TemplateForm(forms.ModelForm):
    class Meta:
        model = WorkflowTemplate
        fields = ["name", "category", "description", "is_active"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}
        help_texts = {
            "is_active": "Archived templates stay on old workflows but cannot start "
            "new ones.",
        }


class StarterCopyForm(forms.Form):
    key = forms.CharField(max_length=40)


class StepForm(forms.Form):
    title = forms.CharField(max_length=200)
    instructions = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    checklist = forms.CharField(
        label="Checklist",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One item a line.",
    )
    assignee_rule = forms.ChoiceField(
        label="Who does it", choices=AssigneeRule.choices, widget=FastSelect
    )
    assignee_role = forms.ChoiceField(
        label="Role",
        required=False,
        choices=[("", "—"), *WORKING_ROLES],
        widget=FastSelect,
        help_text="For “Anyone with a role”: the least busy member with it.",
    )
    due_offset_days = forms.IntegerField(
        label="Due (days)",
        min_value=-366,
        max_value=366,
        initial=0,
        help_text="Days after (or, negative, before) the date below.",
    )
    due_from = forms.ChoiceField(
        label="Counted from", choices=DueFrom.choices, widget=FastSelect
    )
    budgeted_minutes = forms.IntegerField(
        label="Budget (minutes)", min_value=0, max_value=100_000, initial=0
    )
    needs_approval = forms.BooleanField(
        label="Needs approval (someone else reviews and approves it)", required=False
    )
    completes_on = forms.ChoiceField(
        label="Completes by itself when",
        required=False,
        choices=CompletesOn.choices,
        widget=FastSelect,
    )
    depends_on = forms.MultipleChoiceField(
        label="Waits for",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(
        self,
        *args,
        members: list[Membership],
        others: list[StepTemplate],
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.fields["assignee_user"] = MemberChoiceField(
            members=members,
            empty="—",
            required=False,
            label="Person",
            help_text="For “A named person”.",
        )
        # Keep the person next to the rule.
        order = list(self.fields)
        order.remove("assignee_user")
        order.insert(order.index("assignee_role"), "assignee_user")
        self.order_fields(order)
        self._others = {str(s.uuid): s for s in others}
        self.fields["depends_on"].choices = [
            (k, s.title) for k, s in self._others.items()
        ]

    def clean_checklist(self) -> list[str]:
        text = self.cleaned_data.get("checklist") or ""
        return [line.strip() for line in text.splitlines() if line.strip()]

    def clean_depends_on(self) -> list[StepTemplate]:
        return [self._others[k] for k in self.cleaned_data.get("depends_on") or ()]

    def clean(self):
        data = super().clean()
        rule = data.get("assignee_rule")
        if rule == AssigneeRule.PERSON and not data.get("assignee_user"):
            self.add_error("assignee_user", "Choose the person.")
        if rule == AssigneeRule.ROLE and not data.get("assignee_role"):
            self.add_error("assignee_role", "Choose the role.")
        return data

    def service_data(self) -> tuple[dict, list[StepTemplate]]:
        data = dict(self.cleaned_data)
        depends_on = data.pop("depends_on")
        return data, depends_on

    @staticmethod
    def initial_for(step: StepTemplate, depends_on: list[StepTemplate]) -> dict:
        return {
            "title": step.title,
            "instructions": step.instructions,
            "checklist": "\n".join(step.checklist),
            "assignee_rule": step.assignee_rule,
            "assignee_user": step.assignee_user,
            "assignee_role": step.assignee_role,
            "due_offset_days": step.due_offset_days,
            "due_from": step.due_from,
            "budgeted_minutes": step.budgeted_minutes,
            "needs_approval": step.needs_approval,
            "completes_on": step.completes_on,
            "depends_on": [str(s.uuid) for s in depends_on],
        }


class DependenciesForm(forms.Form):
    depends_on = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, others: list[StepTemplate], **kwargs):
        super().__init__(*args, **kwargs)
        self._others = {str(s.uuid): s for s in others}
        self.fields["depends_on"].choices = [
            (k, s.title) for k, s in self._others.items()
        ]

    def clean_depends_on(self) -> list[StepTemplate]:
        return [self._others[k] for k in self.cleaned_data.get("depends_on") or ()]


# Starting a workflow ----------------------------------------------------------------


class ClientWorkForm(forms.Form):
    """Work for one client from one of the firm's templates. The choices come from
    the request's firm (`workflows.selectors.start_choices`) and post uuids, so
    another firm's client, engagement or template is never a valid choice."""

    template = forms.ChoiceField(widget=FastSelect)
    client = forms.ChoiceField(widget=FastSelect)
    engagement = forms.ChoiceField(
        required=False,
        widget=FastSelect,
        help_text="Its partner, manager, preparer and reviewer get the steps.",
    )

    def __init__(
        self,
        *args,
        templates: list[WorkflowTemplate],
        clients: list[tuple[str, str]],
        engagements: list,
        client_search: bool = False,
        find: str = "",
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        # A large firm finds its client first (`workflows.selectors.start_choices`).
        self.client_search = client_search
        self.find = find
        self._templates = {str(t.uuid): t for t in templates}
        self._engagements = {str(e.uuid): e for e in engagements}
        self.fields["template"].choices = [
            ("", "Choose a template"),
            *((k, t.name) for k, t in self._templates.items()),
        ]
        self.fields["client"].choices = [
            (
                "",
                "Choose a client"
                if clients or not client_search
                else "No client matches: search again",
            ),
            *clients,
        ]
        self.fields["engagement"].choices = [
            ("", "No engagement (the client's team)"),
            *((k, e.name) for k, e in self._engagements.items()),
        ]

    def clean_template(self) -> WorkflowTemplate:
        return self._templates[self.cleaned_data["template"]]

    def clean_engagement(self):
        key = self.cleaned_data.get("engagement")
        return self._engagements.get(key) if key else None


class ExecutionStartForm(ClientWorkForm):
    start_date = forms.DateField(widget=_DATE)
    due_date = forms.DateField(
        required=False, widget=_DATE, help_text="The deadline, e.g. the filing date."
    )
    name = forms.CharField(
        max_length=200,
        required=False,
        help_text="Leave empty for “<template> – <client>”.",
    )

    def clean(self):
        data = super().clean()
        start, due = data.get("start_date"), data.get("due_date")
        if start and due and due < start:
            self.add_error("due_date", "The due date cannot be before the start date.")
        return data


# Tasks -----------------------------------------------------------------------------


class AdhocTaskForm(forms.Form):
    title = forms.CharField(max_length=200)
    assignee = forms.ChoiceField(required=False)  # replaced in __init__
    due_date = forms.DateField(required=False, widget=_DATE)
    priority = forms.ChoiceField(
        choices=Priority.choices, initial=Priority.NORMAL, widget=FastSelect
    )

    def __init__(self, *args, members: list[Membership], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"] = MemberChoiceField(
            members=members, empty="Nobody yet", required=False
        )
        self.order_fields(["title", "assignee", "due_date", "priority"])


class AssignForm(forms.Form):
    assignee = forms.ChoiceField(required=False)

    def __init__(self, *args, members: list[Membership], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"] = MemberChoiceField(
            members=members, empty="Nobody", required=False, label="Assigned to"
        )


class CommentForm(forms.Form):
    body = forms.CharField(
        label="Comment", max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )


class MinutesForm(forms.Form):
    minutes = forms.IntegerField(
        label="Add minutes worked", min_value=1, max_value=24 * 60
    )


class MoveForm(forms.Form):
    to_status = forms.CharField(max_length=12)
    comment = forms.CharField(required=False, max_length=5000)


# The workflow list's filters ---------------------------------------------------------

STATUS_OPEN = "open"
STATUS_OVERDUE = "overdue"
STATUS_ALL = "all"


class ExecutionFilterForm(forms.Form):
    status = forms.ChoiceField(
        required=False,
        widget=FastSelect,
        choices=[
            (STATUS_OPEN, "Open"),
            (STATUS_OVERDUE, "Overdue"),
            *ExecutionStatus.choices,
            (STATUS_ALL, "All statuses"),
        ],
    )
    template = forms.ChoiceField(required=False, widget=FastSelect)
    assignee = forms.ChoiceField(
        label="Involving", required=False, widget=FastSelect
    )  # a member's uuid or "me"
    client = forms.UUIDField(required=False, widget=forms.HiddenInput)
    sort = forms.ChoiceField(
        required=False,
        widget=FastSelect,
        choices=[("due", "Due date"), ("newest", "Newest first")],
    )

    def __init__(
        self,
        *args,
        templates: list[tuple[str, str]],
        members: list[Membership],
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.fields["template"].choices = [("", "Any template"), *templates]
        self._users = {str(m.user.uuid): m.user_id for m in members}
        self.fields["assignee"].choices = [
            ("", "Anyone"),
            ("me", "Me"),
            *((str(m.user.uuid), str(m.user)) for m in members),
        ]

    def assignee_id(self, me: int) -> int | None:
        value = self.cleaned_data.get("assignee") or ""
        return me if value == "me" else self._users.get(value)

    def url_params(self) -> dict:
        data = self.cleaned_data
        params = {
            name: data.get(name)
            for name in self.fields
            if data.get(name) not in (None, "")
        }
        if params.get("sort") == "due":
            del params["sort"]
        if params.get("status") == STATUS_OPEN:
            del params["status"]
        return params
