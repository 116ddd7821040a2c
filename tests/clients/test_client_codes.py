"""Suggested client codes: readable, unique in the firm."""

from __future__ import annotations

import pytest

from clients.models import Client, ClientCodes


@pytest.mark.parametrize(
    ("name", "entity_type", "code"),
    [
        ("John Smith", "individual", "SMITH-J"),
        ("José Núñez", "individual", "NUNEZ-J"),
        ("Acme Widgets LLC", "llc", "ACME"),
        ("Lee Photography", "sole_proprietorship", "LEE"),
        ("Cher", "individual", "CHER"),
    ],
)
def test_it_suggests_a_code_from_the_name(cast, make_client, name, entity_type, code):
    assert make_client(cast.alpha, name, entity_type=entity_type).client_code == code


def test_a_taken_code_gets_a_number(cast, make_client):
    make_client(cast.alpha, "John Smith")
    assert make_client(cast.alpha, "Jane Smith").client_code == "SMITH-J2"
    # Another firm's codes do not count.
    assert make_client(cast.beta, "Jim Smith").client_code == "SMITH-J"


def test_the_model_derives_its_fields_for_every_writer():
    """Client.derive_fields, as the service, the CSV import and the bench seeder
    call it: on an unsaved client, against the codes a batch has in use."""
    codes = ClientCodes(["smith-j"])
    first = Client(display_name="José Smith", tax_id="123-45-6789")
    first.derive_fields(codes)
    second = Client(display_name="Jane Smith", entity_type="individual")
    second.derive_fields(codes)
    given = Client(display_name="Lee Photography", client_code=" lee-1 ")
    given.derive_fields(codes)
    assert (first.sort_name, first.tax_id_last4, first.client_code) == (
        "jose smith",
        "6789",
        "SMITH-J2",
    )
    assert (second.tax_id_last4, second.client_code) == ("", "SMITH-J3")
    assert given.client_code == "LEE-1"
