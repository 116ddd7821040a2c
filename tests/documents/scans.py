"""Scans the OCR tests render themselves (the generator lives in
`documents.demo_scans`, which the benchmark and demo seeding use too)."""

from __future__ import annotations

from documents.demo_scans import (
    BANK_STATEMENT_LINES,
    FORM_1099_LINES,
    RECEIPT_LINES,
    W2_LINES,
    broken_pdf,
    encrypted_pdf,
    noisy_scan_png,
    photo_png,
    scan_pdf,
    scan_png,
    scan_tiff,
    text_layer_pdf,
)

__all__ = [
    "BANK_STATEMENT_LINES",
    "FORM_1099_LINES",
    "RECEIPT_LINES",
    "W2_LINES",
    "broken_pdf",
    "encrypted_pdf",
    "noisy_scan_png",
    "photo_png",
    "scan_pdf",
    "scan_png",
    "scan_tiff",
    "text_layer_pdf",
]
