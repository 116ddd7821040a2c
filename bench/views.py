"""Django's floor: the least a page costs here, for `make bench` to divide by."""

from __future__ import annotations

from django.contrib.auth.models import Permission
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

FLOOR_ROWS = 50


@require_GET
def floor(request: HttpRequest) -> HttpResponse:
    """A 50-row table from one query, through the same template engine, outside
    the firm frame: no /o/<slug>/ prefix, so the tenancy middleware does
    nothing and there is no navigation; the other middleware runs as for any
    page. The rows are Django's permissions with their content types: a table
    that is not a firm's (no row-level security, nothing to leak) and has well
    over fifty rows in any migrated database, the test one included."""
    # Query: the first 50 permissions joined to their content types.
    rows = Permission.objects.select_related("content_type").order_by("pk")[:FLOOR_ROWS]
    return render(request, "bench/floor.html", {"rows": rows})
