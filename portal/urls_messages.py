"""THROWAWAY (h/bench only, reverted before merge): stand-in routes."""

from __future__ import annotations

from django.http import HttpResponse
from django.urls import path


def _stub(request, **kwargs):
    return HttpResponse("stub")


urlpatterns = [
    path("messages/", _stub, name="messages"),
]
