"""Suggested client codes: readable, unique in the firm."""

from __future__ import annotations

import pytest


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
