"""manage.py seed_bench: a big firm in bulk, behind the same walls as everything else."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models.functions import Lower

from advisoros.tenancy.db import platform_bypass, tenant_context
from advisoros.tenancy.models import Membership, Organization, Role
from clients.models import (
    Client,
    ClientContact,
    ClientSearchToken,
    ClientStatus,
    Contact,
    Engagement,
    Note,
)
from clients.services.search import client_tokens
from clients.validators import normalize_tax_id

pytestmark = pytest.mark.django_db


def _seed(firm: str, clients: int) -> str:
    out = StringIO()
    call_command("seed_bench", firm=firm, clients=clients, stdout=out)
    return out.getvalue()


@pytest.fixture
def bench_firm(cast) -> Organization:
    output = _seed("bench-small", 300)
    assert "added 300 clients" in output
    return Organization.objects.get(slug="bench-small")


def test_it_creates_the_firm_with_an_owner_and_members(bench_firm):
    with tenant_context(bench_firm):
        roles = list(
            Membership.objects.filter(organization=bench_firm).values_list(
                "role", flat=True
            )
        )
    assert roles.count(Role.OWNER) == 1
    assert {Role.ADMIN, Role.MANAGER, Role.STAFF} <= set(roles)


def test_it_adds_clients_with_their_people_work_and_notes(bench_firm):
    with tenant_context(bench_firm):
        assert Client.objects.count() == 300
        assert Contact.objects.count() == 600
        assert ClientContact.objects.count() == 600
        assert Engagement.objects.count() == 600
        assert Note.objects.count() == 600
        archived = Client.objects.filter(status=ClientStatus.ARCHIVED).count()
        assert 0 < archived < 40  # about 5%
        assert Client.objects.values("entity_type").distinct().count() >= 6


def test_codes_and_contact_emails_are_unique_in_the_firm(bench_firm):
    with tenant_context(bench_firm):
        codes = Client.objects.annotate(code=Lower("client_code")).values("code")
        assert codes.distinct().count() == 300
        emails = Contact.objects.exclude(email="").annotate(e=Lower("email"))
        assert emails.values("e").distinct().count() == emails.count()


def test_every_client_has_the_search_tokens_the_service_would_give(bench_firm):
    with tenant_context(bench_firm):
        tokenless = Client.objects.exclude(
            pk__in=ClientSearchToken.objects.values("client_id")
        )
        assert not tokenless.exists()
        client = Client.objects.order_by("pk")[123]
        contacts = [link.contact for link in client.client_contacts.all()]
        stored = set(
            ClientSearchToken.objects.filter(client=client).values_list(
                "token", flat=True
            )
        )
    assert stored == client_tokens(client, contacts)


def test_tax_ids_are_encrypted_and_decrypt_to_valid_ids(bench_firm):
    with tenant_context(bench_firm):
        clients = list(Client.objects.exclude(tax_id_last4=""))
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT tax_id FROM clients_client WHERE tax_id <> '' LIMIT 20"
            )
            raw = [row[0] for row in cursor.fetchall()]
    assert len(clients) > 250
    for client in clients:
        assert normalize_tax_id(client.tax_id, client.entity_type) == client.tax_id
        assert client.tax_id.endswith(client.tax_id_last4)
    for value in raw:
        assert value.startswith("gAAAAA")  # a Fernet token, not the number
        assert not any(c.tax_id in value for c in clients)


def test_rows_belong_to_the_firm_and_no_other_firm_sees_them(bench_firm, cast):
    with platform_bypass():
        assert set(Client.objects.values_list("organization_id", flat=True)) == {
            bench_firm.pk
        }
        for model in (Contact, ClientContact, Engagement, Note, ClientSearchToken):
            assert set(model.objects.values_list("organization_id", flat=True)) == {
                bench_firm.pk
            }
    with tenant_context(cast.alpha):
        assert Client.objects.count() == 0
        assert ClientSearchToken.objects.count() == 0


def test_a_second_run_tops_the_firm_up(bench_firm):
    output = _seed("bench-small", 350)
    assert "added 50 clients" in output
    assert "added 0 clients" in _seed("bench-small", 350)
    with tenant_context(bench_firm):
        assert Client.objects.count() == 350
        assert Contact.objects.count() == 700
        codes = Client.objects.annotate(code=Lower("client_code")).values("code")
        assert codes.distinct().count() == 350
