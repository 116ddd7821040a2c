from __future__ import annotations

from django.utils.functional import SimpleLazyObject

from advisoros.tenancy.selectors import user_memberships


def tenancy(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "organization": getattr(request, "organization", None),
        "membership": getattr(request, "membership", None),
        # Evaluated only by templates that show the switcher.
        "user_firms": SimpleLazyObject(lambda: list(user_memberships(user.pk))),
    }
