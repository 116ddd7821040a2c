"""Reads about firms and memberships."""

from __future__ import annotations

from django.db.models import QuerySet

from advisoros.tenancy.models import Membership


def user_memberships(user_id: int) -> QuerySet[Membership]:
    """A person's own active memberships in every firm (the firm switcher).

    Cross-firm on purpose: django-scopes is told so explicitly, and the
    database shows only this user's rows (`app.user_id` in the policy).
    """
    return (
        Membership.objects.with_scopes_disabled()
        .filter(user_id=user_id, is_active=True)
        .select_related("organization")
        .order_by("organization__name")
    )
