"""Demo clients for "Demo CPA" (registered with seed_demo). Filled in by the demo data work."""

from __future__ import annotations
