"""Registered from documents/bench.py."""

from __future__ import annotations
