"""Document request events on the client timeline: one query, newest first."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from advisoros.tenancy.db import platform_bypass, tenant_context
from clients.timeline import client_timeline
from documents.models import DocumentRequest, DocumentRequestItem
from documents.services import requests as services
from documents.timeline_requests import request_items
from tests.documents.stored_documents import stored_document
from tests.factories import make_client


def _at(model, obj, **fields):
    with platform_bypass():
        model.objects.filter(pk=obj.pk).update(**fields)


def test_the_timeline_tells_the_requests_story_newest_first(
    cast, django_assert_num_queries
):
    jane = make_client(cast.alpha, "Jane Doe")
    other = make_client(cast.alpha, "John Roe")
    now = timezone.now()
    with tenant_context(cast.alpha):
        doc_request = services.document_request_create(
            client=jane,
            title="2025 tax documents",
            message="Please upload by March.",
            items=[{"title": "W-2"}, {"title": "1098"}],
            created_by=cast.sam,
        )
        services.document_request_create(
            client=other, title="John's", items=[{"title": "K-1"}], created_by=None
        )
        w2, form_1098 = doc_request.items.order_by("position")
        for item in (w2, form_1098):
            services.document_request_item_attach(
                item=item, document=stored_document(jane), by=None
            )
        services.document_request_item_reject(
            item=form_1098, by=cast.alice, reason="Wrong year"
        )
        services.document_request_item_accept(item=w2, by=cast.alice)
    # Spread the events in time so the order is certain.
    _at(DocumentRequest, doc_request, created_at=now - timedelta(days=3))
    _at(DocumentRequestItem, form_1098, reviewed_at=now - timedelta(days=2))
    _at(DocumentRequestItem, w2, reviewed_at=now - timedelta(days=1))
    membership = cast.membership(cast.sam, cast.alpha)

    with tenant_context(cast.alpha):
        # One UNION query for the three kinds of events.
        with django_assert_num_queries(1):
            items = list(request_items(jane, viewer=membership, limit=10))
        timeline = client_timeline(jane, viewer=membership, limit=50)

    url = f"/o/alpha/documents/requests/{doc_request.uuid}/"
    assert [(i.title, i.actor, i.url) for i in items] == [
        ("Requested document accepted: W-2", "Alice Owner", url),
        ("Requested document rejected: 1098", "Alice Owner", url),
        ("Documents requested: 2025 tax documents", "Sam Staff", url),
    ]
    assert items[1].detail == "For “2025 tax documents”: Wrong year"
    assert items[2].detail == "Please upload by March."
    assert {i.kind for i in items} == {"request"}
    assert [i for i in timeline if i.kind == "request"] == items


def test_a_completed_request_shows_its_completion(cast):
    jane = make_client(cast.alpha, "Jane Doe")
    with tenant_context(cast.alpha):
        doc_request = services.document_request_create(
            client=jane,
            title="Bank statements",
            items=[{"title": "March"}],
            created_by=None,
        )
        [item] = doc_request.items.all()
        services.document_request_item_attach(
            item=item, document=stored_document(jane), by=None
        )
        services.document_request_item_accept(item=item, by=cast.sam)
        _at(DocumentRequest, doc_request, completed_at=timezone.now() + timedelta(1))
        items = list(
            request_items(jane, viewer=cast.membership(cast.sam, cast.alpha), limit=2)
        )

    assert [i.title for i in items] == [
        "Document request complete: Bank statements",
        "Requested document accepted: March",
    ]
