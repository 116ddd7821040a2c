"""Creating and editing engagements: the form, its rules and who may use it."""

from __future__ import annotations

import zoneinfo
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from advisoros.tenancy.db import platform_bypass, tenant_context
from advisoros.tenancy.models import Membership, Organization
from clients.models import Engagement, EngagementStatus, FeeModel
from clients.services.engagements import engagement_create, engagement_update


def _new_url(client) -> str:
    return f"/o/alpha/clients/{client.uuid}/engagements/new/"


def _edit_url(engagement) -> str:
    return f"/o/alpha/engagements/{engagement.uuid}/edit/"


def _data(**overrides) -> dict:
    data = {
        "name": "2025 individual return",
        "engagement_type": "individual_tax",
        "tax_year": "2025",
        "status": "planning",
        "priority": "normal",
        "fee_model": "fixed",
        "fee_amount": "850.00",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _errors(response) -> dict:
    return response.context["form"].errors


def _offered(response, field: str) -> set[int]:
    with tenant_context(response.wsgi_request.organization):
        choices = list(response.context["form"].fields[field].choices)
    return {value.value for value, _ in choices if value != ""}


def _reload(engagement: Engagement) -> Engagement:
    with tenant_context(engagement.organization):
        return Engagement.objects.select_related("partner").get(pk=engagement.pk)


def test_the_new_engagement_form_starts_with_the_clients_team(
    cast, login_as, make_client
):
    acme = make_client(cast.alpha, "Acme LLC", entity_type="llc", partner=cast.alice)

    response = login_as(cast.sam).get(_new_url(acme))

    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial["partner"] == cast.alice.pk
    assert form.initial["engagement_type"] == "business_tax"
    assert b"Acme LLC" in response.content


def test_staff_create_an_engagement_from_a_client(cast, login_as, make_client):
    acme = make_client(cast.alpha, "Acme Corp")

    response = login_as(cast.sam).post(
        _new_url(acme), _data(partner=cast.alice.pk, preparer=cast.sam.pk)
    )

    with tenant_context(cast.alpha):
        engagement = Engagement.objects.get(client=acme)
    assert response.status_code == 302
    assert response.url == f"/o/alpha/engagements/{engagement.uuid}/"
    assert engagement.name == "2025 individual return"
    assert engagement.organization_id == cast.alpha.pk
    assert engagement.fee_amount == Decimal("850.00")
    assert (engagement.partner_id, engagement.preparer_id) == (
        cast.alice.pk,
        cast.sam.pk,
    )


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"fee_model": "hourly", "fee_amount": None},
            "hourly_rate",
            "An hourly engagement needs an hourly rate.",
        ),
        (
            {"fee_model": "fixed", "fee_amount": None},
            "fee_amount",
            "A fixed-fee engagement needs the fee amount.",
        ),
        (
            {"fee_model": "retainer", "fee_amount": None},
            "fee_amount",
            "A retainer engagement needs the retainer amount.",
        ),
        (
            {"period_start": "2025-12-31", "period_end": "2025-01-01"},
            "period_end",
            "The period cannot end before it starts.",
        ),
        (
            {"start_date": "2026-03-01", "due_date": "2026-02-01"},
            "due_date",
            "The due date cannot be before the start date.",
        ),
        ({"fee_amount": "-5"}, "fee_amount", "Enter zero or more."),
    ],
)
def test_it_explains_what_is_wrong(
    cast, login_as, make_client, overrides, field, message
):
    acme = make_client(cast.alpha, "Acme Corp")

    response = login_as(cast.sam).post(_new_url(acme), _data(**overrides))

    assert response.status_code == 200
    assert _errors(response)[field] == [message]
    assert message.encode() in response.content
    with tenant_context(cast.alpha):
        assert not Engagement.objects.filter(client=acme).exists()


def test_an_hourly_engagement_with_a_rate_is_saved(cast, login_as, make_client):
    acme = make_client(cast.alpha, "Acme Corp")

    login_as(cast.sam).post(
        _new_url(acme),
        _data(fee_model="hourly", fee_amount=None, hourly_rate="175"),
    )

    with tenant_context(cast.alpha):
        engagement = Engagement.objects.get(client=acme)
    assert engagement.fee_model == FeeModel.HOURLY
    assert engagement.hourly_rate == Decimal("175")


def test_role_slots_accept_only_active_members_of_the_firm(cast, login_as, make_client):
    acme = make_client(cast.alpha, "Acme Corp")
    with platform_bypass():
        Membership.objects.filter(user=cast.adam, organization=cast.alpha).update(
            is_active=False
        )
    client = login_as(cast.sam)

    outsider = client.post(_new_url(acme), _data(partner=cast.oscar.pk))
    former = client.post(_new_url(acme), _data(reviewer=cast.adam.pk))

    assert _errors(outsider)["partner"] == ["Choose an active member of the firm."]
    assert _errors(former)["reviewer"] == ["Choose an active member of the firm."]
    offered = _offered(client.get(_new_url(acme)), "manager")
    assert cast.sam.pk in offered
    assert cast.adam.pk not in offered
    assert cast.oscar.pk not in offered


def test_the_service_refuses_a_member_of_another_firm(cast, make_client):
    acme = make_client(cast.alpha, "Acme Corp")

    with tenant_context(cast.alpha), pytest.raises(ValidationError) as caught:
        engagement_create(
            client=acme,
            data={
                "name": "Books",
                "engagement_type": "bookkeeping",
                "fee_amount": Decimal("100"),
                "manager": cast.oscar,
            },
        )

    assert caught.value.message_dict == {
        "manager": ["Choose an active member of the firm."]
    }


def test_completing_sets_the_completed_date_and_reopening_clears_it(
    cast, login_as, make_client, make_engagement
):
    acme = make_client(cast.alpha, "Acme Corp")
    engagement = make_engagement(acme, "Books", fee_amount=Decimal("100"))
    client = login_as(cast.sam)

    client.post(_edit_url(engagement), _data(name="Books", status="completed"))
    completed = _reload(engagement)
    client.post(_edit_url(engagement), _data(name="Books", status="review"))
    reopened = _reload(engagement)

    assert completed.status == EngagementStatus.COMPLETED
    assert completed.completed_date == timezone.localdate(
        timezone=zoneinfo.ZoneInfo(cast.alpha.timezone)
    )
    assert reopened.status == EngagementStatus.REVIEW
    assert reopened.completed_date is None


def test_a_given_completed_date_is_kept(cast, make_client, make_engagement):
    acme = make_client(cast.alpha, "Acme Corp")
    engagement = make_engagement(acme, "Books", fee_amount=Decimal("100"))

    with tenant_context(cast.alpha):
        engagement_update(
            engagement=engagement,
            data={"status": "completed", "completed_date": date(2025, 4, 15)},
        )

    assert _reload(engagement).completed_date == date(2025, 4, 15)


def test_editing_saves_the_changes_and_returns_to_the_engagement(
    cast, login_as, make_client, make_engagement
):
    acme = make_client(cast.alpha, "Acme Corp")
    engagement = make_engagement(acme, "Books", fee_amount=Decimal("100"))
    due = timezone.localdate() + timedelta(days=30)

    response = login_as(cast.sam).post(
        _edit_url(engagement),
        _data(name="Monthly books", due_date=due.isoformat(), partner=cast.alice.pk),
    )

    saved = _reload(engagement)
    assert response.status_code == 302
    assert response.url == f"/o/alpha/engagements/{engagement.uuid}/"
    assert (saved.name, saved.due_date, saved.partner) == (
        "Monthly books",
        due,
        cast.alice,
    )
    assert saved.client_id == acme.pk


def test_the_edit_form_shows_the_engagement(
    cast, login_as, make_client, make_engagement
):
    engagement = make_engagement(make_client(cast.alpha, "Acme Corp"), "Books")

    response = login_as(cast.sam).get(_edit_url(engagement))

    assert response.status_code == 200
    assert response.context["form"].instance == engagement
    assert b'value="Books"' in response.content


def test_read_only_members_cannot_open_the_forms(
    cast, login_as, make_client, make_engagement
):
    acme = make_client(cast.alpha, "Acme Corp")
    engagement = make_engagement(acme, "Books")
    client = login_as(cast.rita)

    assert client.get(_new_url(acme)).status_code == 403
    assert client.get(_edit_url(engagement)).status_code == 403


def test_assigned_only_staff_cannot_reach_other_clients_engagements(
    cast, login_as, make_client, make_engagement
):
    with platform_bypass():
        Organization.objects.filter(pk=cast.alpha.pk).update(assigned_clients_only=True)
    mine = make_client(cast.alpha, "Mine", staff=cast.sam)
    other = make_client(cast.alpha, "Other", partner=cast.alice)
    theirs = make_engagement(other, "Theirs")
    client = login_as(cast.sam)

    assert client.get(_new_url(mine)).status_code == 200
    assert client.get(_new_url(other)).status_code == 404
    assert client.post(_new_url(other), _data()).status_code == 404
    assert client.get(_edit_url(theirs)).status_code == 404
    assert client.post(_edit_url(theirs), _data()).status_code == 404
    with tenant_context(cast.alpha):
        assert (
            not Engagement.objects.filter(client=other).exclude(pk=theirs.pk).exists()
        )


def test_another_firms_client_or_engagement_is_not_found(
    cast, login_as, make_client, make_engagement
):
    beta_client = make_client(cast.beta, "Beta client")
    beta_engagement = make_engagement(beta_client, "Beta books")
    client = login_as(cast.alice)

    assert client.get(_new_url(beta_client)).status_code == 404
    assert client.post(_edit_url(beta_engagement), _data()).status_code == 404
