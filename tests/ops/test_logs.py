"""JSON logs: each line names the request, the firm and the person, never a tax id."""

from __future__ import annotations

import io
import json
import logging
import runpy

import pytest
from django.conf import settings

from advisoros.ops.logs import JsonFormatter, LogContextFilter
from advisoros.tenancy.db import tenant_context
from clients.models import ClientStatus, EntityType

TAX_ID = "123-45-6789"


@pytest.fixture
def json_log(settings):
    """The production handler (settings.LOGGING with LOG_FORMAT=json) on the
    root logger, everything from DEBUG up, into a buffer; returns the lines."""
    settings.LOG_REQUESTS = True
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(LogContextFilter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)

    def lines() -> list[dict]:
        return [json.loads(line) for line in buffer.getvalue().splitlines()]

    lines.raw = buffer.getvalue
    yield lines
    root.removeHandler(handler)
    root.setLevel(level)


def _client_form(**values) -> dict:
    return {
        "display_name": "Jane Doe",
        "entity_type": EntityType.INDIVIDUAL,
        "status": ClientStatus.ACTIVE,
        "risk_level": "low",
        "fiscal_year_end_month": "12",
        "fiscal_year_end_day": "31",
        "country": "US",
        **values,
    }


def test_a_request_line_names_the_request_firm_and_person_and_no_tax_id(
    cast, login_as, json_log
):
    client = login_as(cast.sam)

    created = client.post(
        "/o/alpha/clients/new/",
        _client_form(tax_id=TAX_ID),
        HTTP_X_REQUEST_ID="lb-4f1c2a9e-0001",
    )
    searched = client.get("/o/alpha/clients/", {"q": TAX_ID})

    assert created.status_code == 302  # saved, with its tax id
    assert created["X-Request-ID"] == "lb-4f1c2a9e-0001"
    access = [line for line in json_log() if line["logger"] == "advisoros.request"]
    assert access[0] == {
        **access[0],
        "request_id": "lb-4f1c2a9e-0001",
        "organization_id": cast.alpha.pk,
        "user_id": cast.sam.pk,
        "method": "POST",
        "path": "/o/alpha/clients/new/",
        "status": 302,
    }
    assert access[1]["request_id"] == searched["X-Request-ID"]
    assert access[1]["path"] == "/o/alpha/clients/"  # never the query string
    raw = json_log.raw()
    assert TAX_ID not in raw
    assert TAX_ID.replace("-", "") not in raw


def test_a_line_written_in_a_firms_context_names_the_firm(cast, json_log):
    # As a job does: it enters the firm's context and logs.
    with tenant_context(cast.alpha, user_id=cast.alice.pk):
        logging.getLogger("clients.tasks").warning("Reminder for note %s failed", 7)

    (line,) = json_log()
    assert line["message"] == "Reminder for note 7 failed"
    assert (line["organization_id"], line["user_id"]) == (cast.alpha.pk, cast.alice.pk)
    assert line["level"] == "WARNING"
    assert "request_id" not in line  # no request: no id made up


@pytest.mark.parametrize(
    "header", ["", "short", "has spaces in it", "x" * 200, "line\nbreak-injected"]
)
def test_a_callers_request_id_that_is_no_id_is_replaced(db, client, header):
    response = client.get("/accounts/login/", HTTP_X_REQUEST_ID=header)

    assert response["X-Request-ID"] != header
    assert len(response["X-Request-ID"]) == 32  # a fresh uuid4, hex


def test_an_exception_is_logged_with_its_traceback(json_log, db):
    try:
        raise ValueError("the bank feed answered nonsense")
    except ValueError:
        logging.getLogger("integrations").exception("Sync failed")

    (line,) = json_log()
    assert line["message"] == "Sync failed"
    assert "ValueError: the bank feed answered nonsense" in line["exception"]


def test_a_request_line_hides_the_token_in_its_path(db, client, json_log):
    token = "Zm9vYmFy-secret-invitation-token"  # noqa: S105 (made up)

    client.get(f"/accounts/invitations/{token}/?utm=x")
    client.get(f"/accounts/password-reset/MQ/{token}/")

    paths = [
        line["path"] for line in json_log() if line["logger"] == "advisoros.request"
    ]
    assert paths == [
        "/accounts/invitations/[hidden]/",
        "/accounts/password-reset/[hidden]/[hidden]/",
    ]
    assert token not in json_log.raw()


def test_gunicorn_writes_no_access_line_of_its_own():
    # Its request line would carry the query string and a link's token.
    conf = runpy.run_path(str(settings.BASE_DIR / "deploy" / "gunicorn.conf.py"))

    assert conf["accesslog"] is None
