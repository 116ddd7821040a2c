"""Bulk actions from the client list: assign, tag, archive, only on visible clients."""

from __future__ import annotations

from django.contrib.messages import get_messages

from advisoros.tenancy.db import platform_bypass, tenant_context
from advisoros.tenancy.models import Membership, Organization
from clients.models import Client, ClientStatus, ClientTag, Tag

URL = "/o/alpha/clients/bulk/"


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _fresh(client: Client) -> Client:
    with tenant_context(client.organization):
        return Client.objects.select_related("partner", "manager", "staff").get(
            pk=client.pk
        )


def _tags_of(client: Client) -> list[str]:
    with tenant_context(client.organization):
        return sorted(
            ClientTag.objects.filter(client=client).values_list("tag__name", flat=True)
        )


def _post(http, clients, **data):
    return http.post(URL, {"clients": [str(c.uuid) for c in clients], **data})


def test_it_assigns_a_partner_to_the_selected_clients(cast, login_as, make_client):
    one = make_client(cast.alpha, "One")
    two = make_client(cast.alpha, "Two")
    other = make_client(cast.alpha, "Not selected")

    response = _post(
        login_as(cast.sam),
        [one, two],
        action="assign",
        role="partner",
        assignee=str(cast.alice.uuid),
    )

    assert response.status_code == 302
    assert _fresh(one).partner == cast.alice and _fresh(two).partner == cast.alice
    assert _fresh(other).partner is None
    assert _messages(response) == ["2 clients: partner set to Alice Owner."]


def test_it_assigns_a_manager_or_staff_and_can_clear(cast, login_as, make_client):
    one = make_client(cast.alpha, "One", staff=cast.adam)
    http = login_as(cast.alice)

    _post(http, [one], action="assign", role="manager", assignee=str(cast.sam.uuid))
    response = _post(http, [one], action="assign", role="staff", assignee="none")

    assert _fresh(one).manager == cast.sam
    assert _fresh(one).staff is None
    assert _messages(response)[-1] == "1 client: staff set to nobody."


def test_only_active_members_can_be_assigned(cast, login_as, make_client):
    one = make_client(cast.alpha, "One")
    with platform_bypass():
        Membership.objects.filter(user=cast.rita, organization=cast.alpha).update(
            is_active=False
        )
    http = login_as(cast.alice)

    for outsider in (cast.oscar, cast.rita):
        response = _post(
            http, [one], action="assign", role="partner", assignee=str(outsider.uuid)
        )
        assert response.status_code == 302
        assert "not one of the available choices" in _messages(response)[-1]
    assert _fresh(one).partner is None


def test_it_adds_an_existing_tag(cast, login_as, make_client):
    with tenant_context(cast.alpha):
        vip = Tag.objects.create(organization=cast.alpha, name="VIP")
    one = make_client(cast.alpha, "One", tags=[vip])
    two = make_client(cast.alpha, "Two")

    response = _post(login_as(cast.sam), [one, two], action="tag", tag=str(vip.uuid))

    assert _tags_of(one) == ["VIP"] and _tags_of(two) == ["VIP"]
    assert _messages(response) == ["Tag “VIP” added to 1 client."]


def test_a_new_tag_name_creates_the_tag_once(cast, login_as, make_client):
    one = make_client(cast.alpha, "One")
    two = make_client(cast.alpha, "Two")
    http = login_as(cast.sam)

    _post(http, [one], action="tag", new_tag="  Extension   filed ")
    _post(http, [two], action="tag", new_tag="extension FILED")

    with tenant_context(cast.alpha):
        tags = list(Tag.objects.filter(organization=cast.alpha))
    assert [t.name for t in tags] == ["Extension filed"]
    assert tags[0].color.startswith("#") and len(tags[0].color) == 7
    assert _tags_of(one) == ["Extension filed"] == _tags_of(two)


def test_another_firms_tag_cannot_be_added(cast, login_as, make_client):
    one = make_client(cast.alpha, "One")
    with tenant_context(cast.beta):
        beta_tag = Tag.objects.create(organization=cast.beta, name="Beta")

    response = _post(login_as(cast.alice), [one], action="tag", tag=str(beta_tag.uuid))

    assert "not one of the available choices" in _messages(response)[0]
    assert _tags_of(one) == []


def test_it_archives_the_selected_clients(cast, login_as, make_client):
    one = make_client(cast.alpha, "One")
    old = make_client(cast.alpha, "Old", status=ClientStatus.ARCHIVED)

    response = _post(login_as(cast.sam), [one, old], action="archive")

    assert _fresh(one).status == ClientStatus.ARCHIVED
    assert _fresh(one).archived_at is not None
    assert _messages(response) == ["1 client archived."]


def test_another_firms_client_in_the_post_is_ignored(cast, login_as, make_client):
    mine = make_client(cast.alpha, "Mine")
    theirs = make_client(cast.beta, "Theirs")

    response = _post(login_as(cast.alice), [mine, theirs], action="archive")

    assert _fresh(mine).status == ClientStatus.ARCHIVED
    assert _fresh(theirs).status == ClientStatus.ACTIVE
    assert _messages(response) == ["1 client archived."]


def test_only_another_firms_clients_selected_touches_nothing(
    cast, login_as, make_client
):
    theirs = make_client(cast.beta, "Theirs")

    response = _post(login_as(cast.alice), [theirs], action="archive")

    assert _fresh(theirs).status == ClientStatus.ACTIVE
    assert _messages(response) == ["Select at least one client."]


def test_with_assigned_only_unassigned_clients_are_not_touched(
    cast, login_as, make_client
):
    with platform_bypass():
        Organization.objects.filter(pk=cast.alpha.pk).update(assigned_clients_only=True)
    mine = make_client(cast.alpha, "Sam's", staff=cast.sam)
    not_mine = make_client(cast.alpha, "Adam's", staff=cast.adam)

    response = _post(login_as(cast.sam), [mine, not_mine], action="archive")

    assert _fresh(mine).status == ClientStatus.ARCHIVED
    assert _fresh(not_mine).status == ClientStatus.ACTIVE
    assert _messages(response) == ["1 client archived."]


def test_a_read_only_member_gets_403(cast, login_as, make_client):
    one = make_client(cast.alpha, "One")

    response = _post(login_as(cast.rita), [one], action="archive")

    assert response.status_code == 403
    assert _fresh(one).status == ClientStatus.ACTIVE


def test_a_get_is_not_allowed(cast, login_as):
    assert login_as(cast.alice).get(URL).status_code == 405


def test_nothing_selected_or_nothing_chosen_explains_itself(
    cast, login_as, make_client
):
    one = make_client(cast.alpha, "One")
    http = login_as(cast.alice)

    # (Each answer's message is the last one: nothing showed the earlier ones.)
    assert _messages(http.post(URL, {"action": "archive"}))[-1] == (
        "Select at least one client."
    )
    assert _messages(_post(http, [one], action="assign", role="partner"))[-1] == (
        "Choose a member, or Nobody to clear."
    )
    assert _messages(_post(http, [one], action="tag"))[-1] == (
        "Choose a tag or type a new one."
    )
    assert _fresh(one).status == ClientStatus.ACTIVE


def test_it_goes_back_to_the_list_with_the_same_filters(cast, login_as, make_client):
    one = make_client(cast.alpha, "One")

    response = _post(
        login_as(cast.alice),
        [one],
        action="archive",
        next="q=one&status=active&sort=-name&cursor=abc&evil=https://x.test",
    )

    assert response.url == "/o/alpha/clients/?q=one&status=active&sort=-name&cursor=abc"
