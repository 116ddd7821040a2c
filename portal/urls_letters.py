"""Engagement letters in the portal (portal.views.letters)."""

from __future__ import annotations

from django.urls import path

from portal.views import letters

urlpatterns: list = [
    path("letters/", letters.letter_list, name="letters"),
    path(
        "letters/<uuid:engagement_uuid>/",
        letters.letter_detail,
        name="letter_detail",
    ),
    path(
        "letters/<uuid:engagement_uuid>/file/",
        letters.letter_file,
        name="letter_file",
    ),
    path(
        "letters/<uuid:engagement_uuid>/sign/",
        letters.letter_sign,
        name="letter_sign",
    ),
    path(
        "letters/<uuid:engagement_uuid>/certificate/",
        letters.letter_certificate,
        name="letter_certificate",
    ),
]
