"""Every firm page, found in the URL resolver: outsiders get 404, read-only gets 403.

New apps' pages under /o/<org_slug>/ join the sweep by themselves. Each `<uuid:...>`
parameter is filled with a real Alpha object, so the cross-firm test proves the view
filters by firm rather than merely failing to find a random uuid: a parameter named
after its model (`invoice_uuid` -> billing.Invoice) finds it by itself, from the row
tests/samples.py makes; any other name needs an entry in `ALPHA_OBJECTS`.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

ORG_PREFIX = "o/<slug:org_slug>/"
PARAM = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")


def _alpha_sample(model_path: str) -> Callable:
    """The uuid of an Alpha row of a tenant model, from tests/samples.py's rows
    (made once per test, on first use)."""

    def get(cast):
        from django.apps import apps

        from advisoros.tenancy.db import tenant_context
        from tests.samples import firm_samples

        model = apps.get_model(model_path)
        with tenant_context(cast.alpha):
            if not model.objects.filter(organization=cast.alpha).exists():
                firm_samples(cast.alpha, cast.alice)
            return model.objects.filter(organization=cast.alpha).earliest("pk").uuid

    return get


# A real Alpha object for each uuid parameter name.
ALPHA_OBJECTS: dict[str, Callable] = {
    "member_uuid": lambda cast: cast.membership(cast.sam, cast.alpha).uuid,
    "invitation_uuid": lambda cast: cast.alpha_invitation.uuid,
    "client_uuid": _alpha_sample("clients.Client"),
    "engagement_uuid": _alpha_sample("clients.Engagement"),
    "contact_uuid": _alpha_sample("clients.Contact"),
    "link_uuid": _alpha_sample("clients.ClientContact"),
    "note_uuid": _alpha_sample("clients.Note"),
    "relationship_uuid": _alpha_sample("clients.ClientRelationship"),
    "import_uuid": _alpha_sample("clients.ClientImport"),
    "document_uuid": _alpha_sample("documents.Document"),
    "request_uuid": _alpha_sample("documents.DocumentRequest"),
    "item_uuid": _alpha_sample("documents.DocumentRequestItem"),
    "tombstone_uuid": _alpha_sample("documents.DocumentTombstone"),
    "template_uuid": _alpha_sample("workflows.WorkflowTemplate"),
    "step_uuid": _alpha_sample("workflows.StepTemplate"),
    "execution_uuid": _alpha_sample("workflows.WorkflowExecution"),
    "task_uuid": _alpha_sample("workflows.Task"),
    "comment_uuid": _alpha_sample("workflows.TaskComment"),
    "schedule_uuid": _alpha_sample("workflows.RecurringSchedule"),
    "notification_uuid": _alpha_sample("workflows.Notification"),
    "failure_uuid": _alpha_sample("tenancy.JobFailure"),
    "export_uuid": _alpha_sample("tenancy.FirmExport"),
    "recurring_uuid": _alpha_sample("billing.RecurringInvoice"),
    "line_uuid": _alpha_sample("billing.InvoiceLine"),
    "entry_uuid": _alpha_sample("billing.TimeEntry"),
    "rate_uuid": _alpha_sample("billing.EngagementRate"),
}


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path) -> None:
    """Files a page makes on the way (an invoice's PDF) land in the test's folder."""
    settings.MEDIA_ROOT = str(tmp_path)


def _walk(patterns, prefix: str = "", namespace: str = "") -> Iterator[tuple[str, str]]:
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            ns = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _walk(pattern.url_patterns, route, ns)
        elif isinstance(pattern, URLPattern):
            yield route, f"{namespace}{pattern.name}" if pattern.name else route


FIRM_ROUTES = sorted(
    (name, route)
    for route, name in _walk(get_resolver().url_patterns)
    if route.startswith(ORG_PREFIX)
)
UUID_ROUTES = [(n, r) for n, r in FIRM_ROUTES if "<uuid:" in r]


def _params(routes):
    return [pytest.param(route, id=name) for name, route in routes]


def _model_named(param: str):
    """The tenant model a `<thing>_uuid` parameter names by its own name
    ("invoice_uuid" -> billing.Invoice), so a new app's pages join the sweep
    without an entry in ALPHA_OBJECTS when their parameters follow the rule."""
    from django.apps import apps

    wanted = param.removesuffix("_uuid").replace("_", "")
    found = [
        model
        for model in apps.get_models()
        if model._meta.model_name == wanted
        and {"organization", "uuid"} <= {f.name for f in model._meta.fields}
    ]
    return found[0] if len(found) == 1 else None


def _alpha_uuids(cast, route: str) -> dict:
    uuids = {}
    for match in PARAM.finditer(route):
        name = match["name"]
        if match["converter"] != "uuid" or name in uuids:
            continue
        if name in ALPHA_OBJECTS:
            uuids[name] = ALPHA_OBJECTS[name](cast)
        elif (model := _model_named(name)) is not None:
            uuids[name] = _alpha_sample(model._meta.label)(cast)
    return uuids


def _fill(route: str, cast, slug: str = "alpha", uuids: dict | None = None) -> str:
    uuids = _alpha_uuids(cast, route) if uuids is None else uuids

    def value(match: re.Match) -> str:
        converter, name = match["converter"], match["name"]
        if name == "org_slug":
            return slug
        if converter == "uuid":
            return str(uuids.get(name) or uuid.uuid4())
        if converter == "int":
            return "1"
        return "x"

    url = "/" + PARAM.sub(value, route)
    assert not re.search(r"[<>^$()\\]", url), f"cannot fill {route!r}"
    return url


def test_the_sweep_finds_the_firm_pages():
    names = {name for name, _ in FIRM_ROUTES}
    assert {
        "tenancy:dashboard",
        "tenancy:members",
        "tenancy:member_role",
        "tenancy:invitation_revoke",
        "tenancy:job_failures",
        "audit:log",
        "audit:export",
    } <= names
    assert {name for name, _ in UUID_ROUTES} >= {
        "tenancy:member_role",
        "tenancy:member_active",
        "tenancy:invitation_revoke",
        "tenancy:job_failure_retry",
        "tenancy:job_failure_dismiss",
    }


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("route", _params(FIRM_ROUTES))
def test_the_firms_owner_reaches_the_page(cast, login_as, route, method):
    # The control: the filled-in URLs are real, so the 404s below mean something.
    response = getattr(login_as(cast.alice), method)(_fill(route, cast))

    assert response.status_code in (200, 302, 405)
    if response.status_code == 302:  # a form's redirect, never "please sign in"
        assert not response.url.startswith("/accounts/login/")


@pytest.mark.parametrize("route", _params(FIRM_ROUTES))
def test_an_anonymous_visitor_is_sent_to_sign_in(cast, client, route):
    url = _fill(route, cast)

    response = client.get(url)

    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/?next=")


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("route", _params(FIRM_ROUTES))
def test_an_outsider_gets_404(cast, login_as, route, method):
    client = login_as(cast.oscar)

    response = getattr(client, method)(_fill(route, cast))

    assert response.status_code == 404


@pytest.mark.parametrize("route", _params(FIRM_ROUTES))
def test_a_read_only_member_cannot_post(cast, login_as, route):
    response = login_as(cast.rita).post(_fill(route, cast))

    assert response.status_code == 403


@pytest.mark.parametrize("route", _params(UUID_ROUTES))
def test_another_firms_object_is_not_found_from_your_own_firm(cast, login_as, route):
    client = login_as(cast.oscar)
    crossed = _fill(route, cast, slug="beta")
    missing = _fill(route, cast, slug="beta", uuids={})

    assert client.post(crossed).status_code == 404
    # A POST-only page answers a GET with 405 before looking anything up: the
    # same answer as for a uuid that exists nowhere, so it tells nothing either.
    answer = client.get(crossed).status_code
    assert answer in (404, 405)
    assert answer == client.get(missing).status_code
