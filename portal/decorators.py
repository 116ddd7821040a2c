"""Checks for portal views (portal.session says who is in)."""

from __future__ import annotations

from functools import wraps

from django.http import Http404
from django.shortcuts import redirect


def portal_login_required(view):
    """A full sign-in to this firm (a request link is not enough)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        portal = getattr(request, "portal", None)
        if portal is None:
            raise Http404("No such firm.")
        slug = portal.organization.slug
        if portal.account is not None and portal.needs_second_factor:
            if portal.account.has_two_factor:
                return redirect("portal:two_factor", org_slug=slug)
            return redirect("portal:two_factor_setup", org_slug=slug)
        if not portal.signed_in:
            return redirect("portal:sign_in", org_slug=slug)
        return view(request, *args, **kwargs)

    return wrapper
