"""A client's invoices in the portal (portal.views.invoices)."""

from __future__ import annotations

from django.urls import path

from portal.views import invoices

urlpatterns: list = [
    path("invoices/", invoices.invoice_list, name="invoices"),
    path(
        "invoices/<uuid:invoice_uuid>/",
        invoices.invoice_detail,
        name="invoice_detail",
    ),
    path(
        "invoices/<uuid:invoice_uuid>/pay/",
        invoices.invoice_pay,
        name="invoice_pay",
    ),
    path(
        "invoices/<uuid:invoice_uuid>/pdf/",
        invoices.invoice_pdf,
        name="invoice_pdf",
    ),
]
