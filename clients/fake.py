"""Made-up but well-formed values for the demo firm and the benchmark firms."""

from __future__ import annotations

import random


def fake_tax_id(rng: random.Random, *, person: bool) -> str:
    """An SSN-shaped (never area 000, 666 or 9xx) or EIN-shaped number.

    The benchmark firms' data (and tests built on it) follow from the random
    sequence: changing these ranges changes every later value drawn."""
    if person:
        return (
            f"{rng.randint(1, 665):03d}-{rng.randint(1, 99):02d}-"
            f"{rng.randint(1, 9999):04d}"
        )
    return f"{rng.randint(10, 99):02d}-{rng.randint(1000000, 9999999):07d}"
