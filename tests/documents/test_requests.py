"""Document requests: the lifecycle of a request and its items, and the fulfilled signal."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from advisoros.tenancy.db import tenant_context
from clients.models import Engagement, EngagementType
from documents.models import DocumentRequest, DocumentRequestItem
from documents.services import requests as services
from documents.signals import request_item_fulfilled
from tests.documents.stored_documents import stored_document
from tests.factories import make_client

Item = DocumentRequestItem.Status


def _request(client, user, *titles, engagement=None, due=None):
    with tenant_context(client.organization):
        return services.document_request_create(
            client=client,
            engagement=engagement,
            title="2025 tax documents",
            message="Please send these by March.",
            items=[
                {"title": t, "category": "w2", "description": "", "due_date": due}
                for t in titles
            ],
            created_by=user,
        )


def _engagement(client, name: str) -> Engagement:
    with tenant_context(client.organization):
        return Engagement.objects.create(
            organization=client.organization,
            client=client,
            name=name,
            engagement_type=EngagementType.INDIVIDUAL_TAX,
        )


def _items(doc_request) -> list[DocumentRequestItem]:
    with tenant_context(doc_request.client.organization):
        return list(doc_request.items.order_by("position"))


def _fresh(obj):
    with tenant_context(obj.organization):
        return type(obj).objects.get(pk=obj.pk)


def _attach(item, document, user):
    with tenant_context(item.organization):
        return services.document_request_item_attach(
            item=item, document=document, by=user
        )


def _accept(item, user):
    with tenant_context(item.organization):
        return services.document_request_item_accept(item=item, by=user)


def test_a_request_is_created_open_with_its_items_in_order(cast, jane):
    engagement = _engagement(jane, "2025 return")

    doc_request = _request(
        jane, cast.sam, "W-2", "1099-INT", engagement=engagement, due=date(2026, 3, 1)
    )

    assert doc_request.status == DocumentRequest.Status.OPEN
    assert doc_request.created_by == cast.sam
    assert doc_request.engagement == engagement
    items = _items(doc_request)
    assert [(i.title, i.position, i.status) for i in items] == [
        ("W-2", 0, Item.OPEN),
        ("1099-INT", 1, Item.OPEN),
    ]
    assert {i.due_date for i in items} == {date(2026, 3, 1)}
    assert {i.organization_id for i in items} == {cast.alpha.pk}


def test_a_request_without_items_is_refused_and_leaves_nothing(cast, jane):
    with pytest.raises(ValidationError, match="at least one item"):
        _request(jane, cast.sam, "", "   ")

    with tenant_context(cast.alpha):
        assert not DocumentRequest.objects.exists()


def test_an_engagement_of_another_client_is_refused(cast, jane):
    engagement = _engagement(make_client(cast.alpha, "John Roe"), "John's return")

    with pytest.raises(ValidationError) as exc:
        _request(jane, cast.sam, "W-2", engagement=engagement)

    assert exc.value.message_dict == {
        "engagement": ["Choose an engagement of this client."]
    }


def test_attaching_a_document_marks_the_item_received(cast, jane):
    doc_request = _request(jane, cast.sam, "W-2")
    [item] = _items(doc_request)
    w2 = stored_document(jane, title="W-2 Acme")

    received = _attach(item, w2, cast.sam)

    assert received.status == Item.RECEIVED
    assert received.received_at is not None
    assert _fresh(w2).request_item_id == item.pk


def test_uploading_for_an_item_marks_it_received(cast, jane):
    from django.core.files.base import ContentFile

    from documents.services.documents import document_create

    doc_request = _request(jane, cast.sam, "W-2")
    [item] = _items(doc_request)

    with tenant_context(cast.alpha):
        document = document_create(
            client=jane,
            file=ContentFile(b"date,amount\n2024-01-02,10.00\n"),
            filename="w2.csv",
            uploaded_by=cast.sam,
            request_item=item,
        )

    assert _fresh(item).status == Item.RECEIVED
    assert _fresh(document).request_item_id == item.pk


def test_a_document_of_another_client_cannot_be_attached(cast, jane):
    doc_request = _request(jane, cast.sam, "W-2")
    [item] = _items(doc_request)
    johns = stored_document(make_client(cast.alpha, "John Roe"), title="John's W-2")

    with pytest.raises(ValidationError, match="document of this client"):
        _attach(item, johns, cast.sam)

    assert _fresh(item).status == Item.OPEN
    assert _fresh(johns).request_item_id is None


def test_only_a_received_item_can_be_accepted(cast, jane):
    [item] = _items(_request(jane, cast.sam, "W-2"))

    with pytest.raises(ValidationError, match="attach the client's document first"):
        _accept(item, cast.sam)

    assert _fresh(item).status == Item.OPEN


def test_accepting_every_item_completes_the_request(cast, jane):
    doc_request = _request(jane, cast.sam, "W-2", "1099")
    first, second = _items(doc_request)
    _attach(first, stored_document(jane, title="W-2"), cast.sam)
    _attach(second, stored_document(jane, title="1099"), cast.sam)

    accepted = _accept(first, cast.alice)
    assert accepted.status == Item.ACCEPTED
    assert accepted.reviewed_by == cast.alice
    assert _fresh(doc_request).status == DocumentRequest.Status.OPEN

    _accept(second, cast.sam)
    done = _fresh(doc_request)
    assert done.status == DocumentRequest.Status.COMPLETED
    assert done.completed_at is not None


def test_rejecting_needs_a_reason(cast, jane):
    [item] = _items(_request(jane, cast.sam, "W-2"))
    _attach(item, stored_document(jane), cast.sam)

    with tenant_context(cast.alpha), pytest.raises(ValidationError) as exc:
        services.document_request_item_reject(item=item, by=cast.sam, reason="  ")

    assert "reason" in exc.value.message_dict
    assert _fresh(item).status == Item.RECEIVED


def test_a_rejected_item_is_owed_again_until_the_client_sends_another(cast, jane):
    doc_request = _request(jane, cast.sam, "W-2")
    [item] = _items(doc_request)
    _attach(item, stored_document(jane, title="W-2 2023"), cast.sam)

    with tenant_context(cast.alpha):
        rejected = services.document_request_item_reject(
            item=item, by=cast.sam, reason="This is the 2023 W-2; we need 2024."
        )
    assert rejected.status == Item.REJECTED
    assert rejected.rejection_reason == "This is the 2023 W-2; we need 2024."
    with pytest.raises(ValidationError):
        _accept(item, cast.sam)  # nothing new to accept

    _attach(item, stored_document(jane, title="W-2 2024"), cast.sam)
    accepted = _accept(item, cast.sam)

    assert accepted.status == Item.ACCEPTED
    assert accepted.rejection_reason == ""
    assert _fresh(doc_request).status == DocumentRequest.Status.COMPLETED


def test_a_cancelled_request_cannot_be_changed(cast, jane):
    doc_request = _request(jane, cast.sam, "W-2")
    [item] = _items(doc_request)

    with tenant_context(cast.alpha):
        cancelled = services.document_request_cancel(request=doc_request, by=cast.sam)
    assert cancelled.status == DocumentRequest.Status.CANCELLED

    with pytest.raises(ValidationError, match="cancelled"):
        _attach(item, stored_document(jane), cast.sam)
    with tenant_context(cast.alpha), pytest.raises(ValidationError, match="cancelled"):
        services.document_request_item_add(request=doc_request, data={"title": "K-1"})


def test_removing_the_only_owed_item_completes_the_request(cast, jane):
    doc_request = _request(jane, cast.sam, "W-2", "1098")
    w2, form_1098 = _items(doc_request)
    _attach(w2, stored_document(jane), cast.sam)
    _accept(w2, cast.sam)

    with tenant_context(cast.alpha):
        after = services.document_request_item_remove(item=form_1098, by=cast.sam)

    assert after.status == DocumentRequest.Status.COMPLETED
    assert [i.title for i in _items(doc_request)] == ["W-2"]


def test_the_last_item_cannot_be_removed(cast, jane):
    [item] = _items(_request(jane, cast.sam, "W-2"))

    with tenant_context(cast.alpha), pytest.raises(ValidationError, match="cancel"):
        services.document_request_item_remove(item=item, by=cast.sam)

    assert len(_items(item.request)) == 1


def test_adding_an_item_to_a_completed_request_opens_it_again(cast, jane):
    doc_request = _request(jane, cast.sam, "W-2")
    [item] = _items(doc_request)
    _attach(item, stored_document(jane), cast.sam)
    _accept(item, cast.sam)

    with tenant_context(cast.alpha):
        added = services.document_request_item_add(
            request=doc_request,
            data={"title": "Brokerage 1099-B", "due_date": date(2026, 4, 1)},
        )

    assert (added.position, added.status) == (1, Item.OPEN)
    reopened = _fresh(doc_request)
    assert reopened.status == DocumentRequest.Status.OPEN
    assert reopened.completed_at is None


@pytest.mark.django_db(transaction=True)
def test_the_fulfilled_signal_carries_the_item_once_the_acceptance_is_committed(
    cast, jane
):
    doc_request = _request(jane, cast.sam, "W-2")
    [item] = _items(doc_request)
    _attach(item, stored_document(jane), cast.sam)
    heard = []

    def receiver(sender, *, item, organization, **kwargs):
        # What a workflow would do: read the item back from the database.
        stored = DocumentRequestItem.objects.get(pk=item.pk)
        heard.append(
            (sender, item.pk, organization, stored.status, transaction.get_autocommit())
        )

    request_item_fulfilled.connect(receiver)
    try:
        with tenant_context(cast.alpha):
            with transaction.atomic():
                services.document_request_item_accept(item=item, by=cast.sam)
                assert heard == []  # nothing before the commit
    finally:
        request_item_fulfilled.disconnect(receiver)

    assert heard == [(DocumentRequestItem, item.pk, cast.alpha, Item.ACCEPTED, True)]


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_acceptance_sends_no_signal(cast, jane):
    [item] = _items(_request(jane, cast.sam, "W-2"))
    _attach(item, stored_document(jane), cast.sam)
    heard = []

    def receiver(sender, **kwargs):
        heard.append(kwargs["item"])

    request_item_fulfilled.connect(receiver)
    try:
        with tenant_context(cast.alpha), pytest.raises(RuntimeError):
            with transaction.atomic():
                services.document_request_item_accept(item=item, by=cast.sam)
                raise RuntimeError("the page failed after accepting")
    finally:
        request_item_fulfilled.disconnect(receiver)

    assert heard == []
    assert _fresh(item).status == Item.RECEIVED


@pytest.mark.django_db(transaction=True)
def test_a_failing_listener_does_not_undo_the_acceptance(cast, jane):
    [item] = _items(_request(jane, cast.sam, "W-2"))
    _attach(item, stored_document(jane), cast.sam)

    def broken(sender, **kwargs):
        raise ValueError("a workflow bug")

    request_item_fulfilled.connect(broken)
    try:
        accepted = _accept(item, cast.sam)
    finally:
        request_item_fulfilled.disconnect(broken)

    assert accepted.status == Item.ACCEPTED
    assert _fresh(item).status == Item.ACCEPTED
