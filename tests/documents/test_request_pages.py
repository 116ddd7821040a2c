"""Document request pages: the firm-wide list, a client's requests, create, the request
page and its item actions, driven through the test client."""

from __future__ import annotations

from datetime import timedelta

from advisoros.tenancy.clock import firm_today
from advisoros.tenancy.db import platform_bypass, tenant_context
from clients.models import Engagement, EngagementType
from documents.models import AccessLevel, DocumentRequest, DocumentRequestItem
from documents.services import requests as services
from tests.documents.stored_documents import stored_document
from tests.factories import make_client

Item = DocumentRequestItem.Status
LIST = "/o/alpha/documents/requests/"


def _request(client, *titles, due=None, title="2025 tax documents"):
    with tenant_context(client.organization):
        return services.document_request_create(
            client=client,
            title=title,
            items=[{"title": t, "due_date": due} for t in titles],
            created_by=None,
        )


def _items(doc_request):
    with tenant_context(doc_request.organization):
        return list(doc_request.items.order_by("position"))


def _fresh(obj):
    with tenant_context(obj.organization):
        return type(obj).objects.get(pk=obj.pk)


def _received(item, client):
    with tenant_context(client.organization):
        services.document_request_item_attach(
            item=item, document=stored_document(client), by=None
        )


def _detail_url(doc_request) -> str:
    return f"/o/alpha/documents/requests/{doc_request.uuid}/"


def _item_url(item, action: str) -> str:
    return f"/o/alpha/documents/requests/items/{item.uuid}/{action}/"


def _titles(response) -> list[str]:
    return [r.title for r in response.context["rows"]]


# The firm-wide list ---------------------------------------------------------------


def test_the_list_shows_open_requests_with_progress_and_overdue_items(
    cast, login_as, jane
):
    yesterday = firm_today(cast.alpha) - timedelta(days=1)
    doc_request = _request(jane, "W-2", "1099", "1098", due=yesterday)
    w2, _, _ = _items(doc_request)
    _received(w2, jane)
    done = _request(jane, "K-1", title="Done already")
    with tenant_context(cast.alpha):
        services.document_request_cancel(request=done)

    response = login_as(cast.rita).get(LIST)

    assert response.status_code == 200
    assert _titles(response) == ["2025 tax documents"]
    [row] = response.context["rows"]
    assert (row.item_count, row.received_count, row.overdue_count) == (3, 1, 2)
    assert b"1 of 3 received" in response.content
    assert b"2 overdue" in response.content
    assert response.context["totals"] == {"open": 1, "overdue": 1}


def test_the_list_filters_by_status_and_client(cast, login_as, jane):
    john = make_client(cast.alpha, "John Roe")
    past = firm_today(cast.alpha) - timedelta(days=3)
    _request(jane, "W-2", title="Jane's late documents", due=past)
    _request(john, "W-2", title="John's documents")
    cancelled = _request(john, "K-1", title="John's cancelled")
    with tenant_context(cast.alpha):
        services.document_request_cancel(request=cancelled)
    client = login_as(cast.sam)

    assert _titles(client.get(LIST, {"status": "overdue"})) == ["Jane's late documents"]
    assert _titles(client.get(LIST, {"q": "roe"})) == ["John's documents"]
    assert _titles(client.get(LIST, {"status": "cancelled"})) == ["John's cancelled"]
    assert len(_titles(client.get(LIST, {"status": "all"}))) == 3
    assert b"Nothing matches" in client.get(LIST, {"q": "zzz"}).content


def test_the_list_shows_no_other_firms_requests(cast, login_as):
    _request(make_client(cast.beta, "Beta Client"), "W-2", title="Beta's request")

    response = login_as(cast.alice).get(LIST)

    assert _titles(response) == []
    assert b"No open requests" in response.content


def test_assigned_only_staff_see_requests_of_their_clients(cast, login_as):
    with platform_bypass():
        cast.alpha.assigned_clients_only = True
        cast.alpha.save(update_fields=["assigned_clients_only"])
    mine = make_client(cast.alpha, "Sam's client", staff=cast.sam)
    theirs = make_client(cast.alpha, "Alice's client", partner=cast.alice)
    _request(mine, "W-2", title="Mine")
    hidden = _request(theirs, "W-2", title="Not mine")
    client = login_as(cast.sam)

    assert _titles(client.get(LIST)) == ["Mine"]
    assert client.get(_detail_url(hidden)).status_code == 404
    [item] = _items(hidden)
    assert client.post(_item_url(item, "accept")).status_code == 404


def test_the_list_makes_the_same_number_of_queries_for_2_or_40_requests(
    cast, login_as, jane, django_assert_num_queries
):
    client = login_as(cast.sam)
    client.get(LIST)  # the first request also writes the session
    for count in (2, 38):
        for n in range(count):
            _request(jane, "W-2", "1099", title=f"Request {n}")
        # 1 session, 2 user, 3 the firm, entered in its RLS context, 4 the member's
        # firms (the membership and the switcher), 5 a page of requests with clients,
        # engagements and item counts (the client search is a subquery), 6 the open and
        # overdue totals, 7 reset the RLS context.
        with django_assert_num_queries(7):
            response = client.get(LIST, {"q": "jane"})
        assert response.status_code == 200
    assert len(response.context["rows"]) == 40


def test_the_list_pages_by_keyset(cast, login_as, jane):
    for n in range(55):
        _request(jane, "W-2", title=f"Request {n:02d}")
    client = login_as(cast.sam)

    first = client.get(LIST)
    second = client.get(LIST, {"cursor": first.context["page"].next_cursor})

    assert len(first.context["rows"]) == 50
    assert _titles(second) == [f"Request {n:02d}" for n in range(4, -1, -1)]
    assert not set(_titles(first)) & set(_titles(second))


# A client's requests and create ---------------------------------------------------


def test_a_clients_page_lists_only_its_requests(cast, login_as, jane):
    _request(jane, "W-2", title="Jane's")
    _request(make_client(cast.alpha, "John Roe"), "W-2", title="John's")

    response = login_as(cast.rita).get(f"/o/alpha/clients/{jane.uuid}/requests/")

    assert response.status_code == 200
    assert _titles(response) == ["Jane's"]
    assert b"New request" not in response.content  # read-only


def test_a_template_fills_the_create_page_with_its_items(cast, login_as, jane):
    response = login_as(cast.sam).get(
        f"/o/alpha/clients/{jane.uuid}/requests/new/", {"template": "1040"}
    )

    assert response.status_code == 200
    rows = [f.initial.get("title") for f in response.context["formset"]]
    assert rows[:6] == [
        "W-2s from every employer",
        "1099s (interest, dividends, brokerage, retirement, NEC)",
        "1098 mortgage interest statement",
        "Property tax statements",
        "Charitable donation receipts",
        "Prior-year tax return",
    ]
    assert response.context["form"].initial == {"title": "1040 organizer"}


def _create_data(engagement="", **rows) -> dict:
    data = {
        "title": "2025 documents",
        "message": "Thanks!",
        "engagement": engagement,
        "due_date": "2026-03-01",
        "items-TOTAL_FORMS": "3",
        "items-INITIAL_FORMS": "0",
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "100",
        "items-0-title": "W-2",
        "items-0-category": "w2",
        "items-0-due_date": "",
        "items-1-title": "Brokerage 1099",
        "items-1-category": "1099",
        "items-1-due_date": "2026-02-15",
        "items-2-title": "",  # a blank row is skipped
    }
    data.update(rows)
    return data


def test_staff_create_a_request_with_items_and_an_engagement(cast, login_as, jane):
    with tenant_context(cast.alpha):
        engagement = Engagement.objects.create(
            organization=cast.alpha,
            client=jane,
            name="2025 return",
            engagement_type=EngagementType.INDIVIDUAL_TAX,
        )

    response = login_as(cast.sam).post(
        f"/o/alpha/clients/{jane.uuid}/requests/new/",
        _create_data(engagement=str(engagement.uuid)),
    )

    with tenant_context(cast.alpha):
        doc_request = DocumentRequest.objects.get()
    assert response.status_code == 302
    assert response.url == _detail_url(doc_request)
    assert (doc_request.engagement_id, doc_request.created_by_id) == (
        engagement.pk,
        cast.sam.pk,
    )
    items = _items(doc_request)
    assert [(i.title, i.category, str(i.due_date)) for i in items] == [
        ("W-2", "w2", "2026-03-01"),  # the request's date
        ("Brokerage 1099", "1099", "2026-02-15"),  # its own
    ]


def test_another_clients_engagement_is_not_offered_nor_accepted(cast, login_as, jane):
    with tenant_context(cast.alpha):
        johns = Engagement.objects.create(
            organization=cast.alpha,
            client=make_client(cast.alpha, "John Roe"),
            name="John's return",
            engagement_type=EngagementType.INDIVIDUAL_TAX,
        )

    response = login_as(cast.sam).post(
        f"/o/alpha/clients/{jane.uuid}/requests/new/",
        _create_data(engagement=str(johns.uuid)),
    )

    assert response.status_code == 200
    assert "engagement" in response.context["form"].errors
    with tenant_context(cast.alpha):
        assert not DocumentRequest.objects.exists()


def test_a_request_with_no_item_is_refused_with_a_message(cast, login_as, jane):
    response = login_as(cast.sam).post(
        f"/o/alpha/clients/{jane.uuid}/requests/new/",
        _create_data(
            **{"items-0-title": "", "items-1-title": "", "items-1-due_date": ""}
        ),
    )

    assert response.status_code == 200
    assert b"Add at least one item" in response.content
    with tenant_context(cast.alpha):
        assert not DocumentRequest.objects.exists()


def test_another_firms_client_has_no_request_pages(cast, login_as):
    beta_client = make_client(cast.beta, "Beta Client")
    client = login_as(cast.alice)

    assert (
        client.get(f"/o/alpha/clients/{beta_client.uuid}/requests/").status_code == 404
    )
    response = client.post(
        f"/o/alpha/clients/{beta_client.uuid}/requests/new/", _create_data()
    )
    assert response.status_code == 404


# The request page ------------------------------------------------------------------


def test_the_request_page_offers_only_the_clients_documents_the_member_sees(
    cast, login_as, jane
):
    doc_request = _request(jane, "W-2")
    visible = stored_document(jane, title="Jane W-2")
    stored_document(jane, title="Partner only", access_level=AccessLevel.RESTRICTED)
    stored_document(make_client(cast.alpha, "John Roe"), title="John W-2")

    response = login_as(cast.sam).get(_detail_url(doc_request))

    assert response.status_code == 200
    labels = [label for _, label in response.context["attach_choices"]]
    assert labels == ["Jane W-2 (Jane W-2.pdf)"]
    assert str(visible.uuid).encode() in response.content


def test_staff_attach_accept_and_the_request_completes(cast, login_as, jane):
    doc_request = _request(jane, "W-2")
    [item] = _items(doc_request)
    w2 = stored_document(jane, title="Jane W-2")
    client = login_as(cast.sam)

    attached = client.post(_item_url(item, "attach"), {"document": str(w2.uuid)})
    assert attached.status_code == 302
    assert _fresh(item).status == Item.RECEIVED
    page = client.get(_detail_url(doc_request))
    assert [d.title for d in page.context["items"][0].attached] == ["Jane W-2"]

    accepted = client.post(_item_url(item, "accept"), follow=True)

    assert _fresh(item).status == Item.ACCEPTED
    assert _fresh(doc_request).status == DocumentRequest.Status.COMPLETED
    assert b"the request is complete" in accepted.content


def test_a_document_of_another_client_cannot_be_attached_through_the_form(
    cast, login_as, jane
):
    [item] = _items(_request(jane, "W-2"))
    johns = stored_document(make_client(cast.alpha, "John Roe"), title="John W-2")

    response = login_as(cast.sam).post(
        _item_url(item, "attach"), {"document": str(johns.uuid)}, follow=True
    )

    assert b"Choose one of this client" in response.content
    assert _fresh(item).status == Item.OPEN
    assert _fresh(johns).request_item_id is None


def test_a_rejection_without_a_reason_changes_nothing(cast, login_as, jane):
    [item] = _items(_request(jane, "W-2"))
    _received(item, jane)
    client = login_as(cast.sam)

    response = client.post(_item_url(item, "reject"), {"reason": " "}, follow=True)

    assert b"Say why" in response.content
    assert _fresh(item).status == Item.RECEIVED

    client.post(_item_url(item, "reject"), {"reason": "Unreadable scan"})
    rejected = _fresh(item)
    assert (rejected.status, rejected.rejection_reason) == (
        Item.REJECTED,
        "Unreadable scan",
    )
    assert rejected.reviewed_by == cast.sam


def test_staff_add_edit_and_remove_items_and_cancel(cast, login_as, jane):
    doc_request = _request(jane, "W-2")
    client = login_as(cast.sam)

    client.post(
        f"{_detail_url(doc_request)}items/add/",
        {"new-title": "K-1 from the partnership", "new-category": "k1"},
    )
    w2, k1 = _items(doc_request)
    assert (k1.title, k1.category) == ("K-1 from the partnership", "k1")

    client.post(_item_url(k1, "edit"), {"title": "K-1s", "category": "k1"})
    assert _fresh(k1).title == "K-1s"

    client.post(_item_url(w2, "remove"))
    assert [i.title for i in _items(doc_request)] == ["K-1s"]

    client.post(f"{_detail_url(doc_request)}cancel/")
    assert _fresh(doc_request).status == DocumentRequest.Status.CANCELLED


def test_a_read_only_member_sees_the_request_but_changes_nothing(cast, login_as, jane):
    doc_request = _request(jane, "W-2")
    [item] = _items(doc_request)
    _received(item, jane)
    client = login_as(cast.rita)

    page = client.get(_detail_url(doc_request))
    assert page.status_code == 200
    assert b"Accept" not in page.content
    assert client.post(_item_url(item, "accept")).status_code == 403
    assert client.post(f"{_detail_url(doc_request)}cancel/").status_code == 403
    assert _fresh(item).status == Item.RECEIVED


def test_another_firms_request_is_not_found(cast, login_as):
    beta_request = _request(make_client(cast.beta, "Beta Client"), "W-2")
    [beta_item] = _items(beta_request)
    client = login_as(cast.alice)

    assert client.get(_detail_url(beta_request)).status_code == 404
    assert client.post(_item_url(beta_item, "accept")).status_code == 404
    assert (
        client.post(_item_url(beta_item, "reject"), {"reason": "x"}).status_code == 404
    )
    assert client.post(f"{_detail_url(beta_request)}cancel/").status_code == 404
    assert _fresh(beta_request).status == DocumentRequest.Status.OPEN


def test_the_request_page_makes_the_same_number_of_queries_for_1_or_12_items(
    cast, login_as, jane, django_assert_num_queries
):
    doc_request = _request(jane, "W-2")
    client = login_as(cast.sam)
    client.get(_detail_url(doc_request))
    for extra in (0, 11):
        for n in range(extra):
            with tenant_context(cast.alpha):
                item = services.document_request_item_add(
                    request=doc_request, data={"title": f"Item {n}"}
                )
            _received(item, jane)
        # 1 session, 2 user, 3 the firm, entered in its RLS context, 4 the member's
        # firms (the membership and the switcher), 5 the request with its client,
        # engagement and author, 6 the items with reviewers, 7 their attached documents
        # the member may see, 8 the client's documents for the attach selects, 9-10
        # the portal's panel (the client's contacts, the request's links), 11 reset
        # the RLS context.
        with django_assert_num_queries(11):
            response = client.get(_detail_url(doc_request))
        assert response.status_code == 200
    assert len(response.context["items"]) == 12
