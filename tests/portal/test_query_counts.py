"""The portal's home and request pages read a fixed number of queries however
many requests, items, uploads, documents, letters and messages there are."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from advisoros.tenancy.db import tenant_context
from clients.models import Engagement
from portal.models import Message
from tests.factories import make_document
from tests.portal.builders import make_request

pytestmark = pytest.mark.django_db


def _grow(pcast, n: int) -> None:
    jane = pcast.jane
    for i in range(n):
        make_request(jane, f"Request {i}", [f"Item {i}.{k}" for k in range(3)])
        make_document(jane, visible_to_client=True, title=f"Shared {i}")
        with tenant_context(jane.organization):
            Message.objects.create(
                organization=jane.organization,
                client=jane,
                from_client=False,
                body="Hi",
            )
            Engagement.objects.create(
                organization=jane.organization,
                client=jane,
                name=f"Engagement {i}",
                engagement_type="tax_return",
                letter=f"private/letters/{i}.pdf",
                letter_filename="letter.pdf",
            )


def _queries(http, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = http.get(url)
    assert response.status_code == 200, response.status_code
    return len(ctx.captured_queries)


def test_home_reads_the_same_queries_at_two_sizes(pcast, joan_portal):
    _grow(pcast, 2)
    small = _queries(joan_portal, "/p/alpha/home/")
    _grow(pcast, 10)
    large = _queries(joan_portal, "/p/alpha/home/")
    assert small == large


def test_the_request_page_reads_the_same_queries_at_two_sizes(pcast, joan_portal):
    few = make_request(pcast.jane, "Few", ["One", "Two"])
    many = make_request(pcast.jane, "Many", [f"Item {i}" for i in range(15)])
    for doc_request in (few, many):
        with tenant_context(pcast.jane.organization):
            for item in doc_request.items.all():
                make_document(
                    pcast.jane,
                    request_item=item,
                    source="portal",
                    uploaded_by_contact=pcast.joan,
                )
    joan_portal.get(
        f"/p/alpha/requests/{few.uuid}/"
    )  # the firm's upload rules made once
    small = _queries(joan_portal, f"/p/alpha/requests/{few.uuid}/")
    large = _queries(joan_portal, f"/p/alpha/requests/{many.uuid}/")
    assert small == large
