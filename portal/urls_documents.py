"""THROWAWAY (h/bench only, reverted before merge): stand-in routes so signed-in
portal pages render until the documents branch lands."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path

from portal.decorators import portal_login_required
from portal.selectors import shared_documents


@portal_login_required
def _documents(request, org_slug):
    documents = list(shared_documents(request.portal)[:50])
    return render(
        request,
        "portal/_throwaway_documents.html",
        {"documents": documents, "portal_section": "documents"},
    )


def _stub(request, **kwargs):
    return HttpResponse("stub")


urlpatterns = [
    path("documents/", _documents, name="documents"),
    path("documents/<uuid:document_uuid>/", _stub, name="document_detail"),
]
