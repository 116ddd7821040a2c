"""CSV export of the filtered client list: every page, visible clients only, audited."""

from __future__ import annotations

import csv
import io

from advisoros.audit.models import AuditAction, AuditEvent
from advisoros.tenancy.db import platform_bypass, tenant_context
from advisoros.tenancy.models import Organization
from clients.models import ClientStatus, EntityType, RiskLevel, Tag

URL = "/o/alpha/clients/export.csv"


def _rows(response) -> list[list[str]]:
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


def _by_name(rows: list[list[str]]) -> dict[str, dict[str, str]]:
    header = rows[0]
    return {r[1]: dict(zip(header, r, strict=True)) for r in rows[1:]}


def test_it_streams_a_csv_with_every_column(cast, login_as, make_client):
    with tenant_context(cast.alpha):
        vip = Tag.objects.create(organization=cast.alpha, name="VIP")
        payroll = Tag.objects.create(organization=cast.alpha, name="Payroll")
    make_client(
        cast.alpha,
        "Acme Widgets",
        legal_name="Acme Widgets LLC",
        client_code="ACME",
        entity_type=EntityType.LLC,
        risk_level=RiskLevel.HIGH,
        industry="Manufacturing",
        fiscal_year_end_month=6,
        fiscal_year_end_day=30,
        email="office@acme.test",
        phone="555 0100",
        address_line1="1 Main St",
        address_line2="Suite 2",
        city="Springfield",
        region="IL",
        postal_code="62701",
        tax_id="12-3456789",
        partner=cast.alice,
        manager=cast.adam,
        staff=cast.sam,
        tags=[vip, payroll],
    )

    response = login_as(cast.alice).get(URL)
    rows = _rows(response)

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith(
        'attachment; filename="clients-alpha-'
    )
    assert rows[0] == [
        "code",
        "display name",
        "legal name",
        "entity type",
        "status",
        "risk",
        "industry",
        "fiscal year end",
        "email",
        "phone",
        "address",
        "address line 2",
        "city",
        "state / region",
        "postal code",
        "country",
        "partner",
        "manager",
        "staff",
        "tags",
        "tax id last four",
    ]
    assert rows[1] == [
        "ACME",
        "Acme Widgets",
        "Acme Widgets LLC",
        "LLC",
        "Active",
        "High",
        "Manufacturing",
        "06/30",
        "office@acme.test",
        "555 0100",
        "1 Main St",
        "Suite 2",
        "Springfield",
        "IL",
        "62701",
        "US",
        "alice@alpha.test",
        "adam@alpha.test",
        "sam@alpha.test",
        "Payroll; VIP",
        "6789",
    ]


def test_the_full_tax_id_never_leaves(cast, login_as, make_client):
    make_client(cast.alpha, "Jane Doe", tax_id="123-45-6789")
    make_client(cast.alpha, "Acme", entity_type=EntityType.LLC, tax_id="98-7654321")

    body = b"".join(login_as(cast.alice).get(URL).streaming_content).decode()

    assert "6789" in body and "4321" in body
    for secret in ("123-45", "12345", "98-765", "98765"):
        assert secret not in body


def test_formulas_are_neutralised(cast, login_as, make_client):
    make_client(
        cast.alpha,
        '=HYPERLINK("http://evil.test","Click")',
        client_code="EVIL",
        legal_name="@SUM(A1:A9)",
        industry="+1+2",
        phone="-3",
    )

    rows = _rows(login_as(cast.alice).get(URL))

    code, name, legal, *_ = rows[1]
    assert name == '\'=HYPERLINK("http://evil.test","Click")'
    assert legal == "'@SUM(A1:A9)"
    assert _by_name(rows)[name]["industry"] == "'+1+2"
    assert _by_name(rows)[name]["phone"] == "'-3"


def test_it_exports_every_page_of_the_filtered_list_in_its_order(
    cast, login_as, make_clients, make_client
):
    make_clients(cast.alpha, 130, prefix="Llc", entity_type=EntityType.LLC)
    make_client(cast.alpha, "A person")
    make_client(
        cast.alpha, "Archived LLC", entity_type=EntityType.LLC, status="archived"
    )

    rows = _rows(login_as(cast.alice).get(URL, {"entity_type": "llc", "sort": "-name"}))

    names = [r[1] for r in rows[1:]]
    assert len(names) == 130
    assert names == sorted(names, reverse=True)
    assert "A person" not in names and "Archived LLC" not in names


def test_search_and_status_filters_apply(cast, login_as, make_client, make_contact):
    smith = make_client(cast.alpha, "John Smith")
    make_contact(smith, "Maria", "Lopez", email="maria@lopez.test")
    make_client(cast.alpha, "Acme")
    make_client(cast.alpha, "Old Maria Co", status=ClientStatus.ARCHIVED)
    http = login_as(cast.alice)

    assert [r[1] for r in _rows(http.get(URL, {"q": "maria@lopez"}))[1:]] == [
        "John Smith"
    ]
    assert [
        r[1] for r in _rows(http.get(URL, {"q": "maria", "status": "all"}))[1:]
    ] == [
        "John Smith",
        "Old Maria Co",
    ]


def test_the_export_is_recorded_with_its_filters(cast, login_as, make_client):
    make_client(cast.alpha, "Acme")

    _rows(login_as(cast.adam).get(URL, {"q": "acme", "status": "all", "junk": "x"}))

    with tenant_context(cast.alpha):
        event = AuditEvent.objects.get(action=AuditAction.CLIENTS_EXPORTED)
    assert event.actor == cast.adam
    assert event.detail == {"filters": {"q": "acme", "status": "all", "sort": "name"}}


def test_with_assigned_only_staff_export_only_their_clients(
    cast, login_as, make_client
):
    with platform_bypass():
        Organization.objects.filter(pk=cast.alpha.pk).update(assigned_clients_only=True)
    make_client(cast.alpha, "Sam's client", manager=cast.sam)
    make_client(cast.alpha, "Someone else's", partner=cast.alice)

    sam_rows = _rows(login_as(cast.sam).get(URL))
    adam_rows = _rows(login_as(cast.adam).get(URL))

    assert [r[1] for r in sam_rows[1:]] == ["Sam's client"]
    assert [r[1] for r in adam_rows[1:]] == ["Sam's client", "Someone else's"]


def test_another_firms_clients_are_never_exported(cast, login_as, make_client):
    make_client(cast.alpha, "Alpha client")
    make_client(cast.beta, "Beta client")

    rows = _rows(login_as(cast.alice).get(URL, {"status": "all"}))

    assert [r[1] for r in rows[1:]] == ["Alpha client"]


def test_an_outsider_gets_404(cast, login_as):
    assert login_as(cast.oscar).get(URL).status_code == 404
