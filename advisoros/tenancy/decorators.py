"""Role checks for firm views. The middleware already answered 404 to non-members."""

from __future__ import annotations

from functools import wraps

from django.core.exceptions import PermissionDenied

from advisoros.tenancy.models import Role


def require_role(minimum: Role):
    """403 unless the member's role is at least `minimum` (owner > admin > manager > staff > readonly)."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            membership = getattr(request, "membership", None)
            if membership is None or not membership.has_role(minimum):
                raise PermissionDenied(
                    f"This page needs the {minimum.label} role or higher."
                )
            return view(request, *args, **kwargs)

        wrapper.required_role = minimum
        return wrapper

    return decorator
