from __future__ import annotations

from django.utils.functional import SimpleLazyObject

from advisoros.nav import current_entries, nav_html
from advisoros.tenancy.models import Role
from advisoros.tenancy.selectors import user_memberships


def tenancy(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    organization = getattr(request, "organization", None)
    membership = getattr(request, "membership", None)
    context = {
        "organization": organization,
        "membership": membership,
        # Firm pages have them from the middleware; elsewhere they are loaded
        # only by templates that show the switcher.
        "user_firms": getattr(request, "user_firms", None)
        or SimpleLazyObject(lambda: list(user_memberships(user.pk))),
    }
    standing = getattr(request, "subscription_standing", None)
    if standing is not None and standing.notice is not None:
        # The banner of every firm page (partials/subscription_notice.html).
        context["subscription_notice"] = standing.notice
    if organization is not None and membership is not None:
        context["side_nav"] = nav_html(
            organization.slug,
            membership.role in (Role.OWNER, Role.ADMIN),
            current_entries(getattr(request, "resolver_match", None)),
            is_owner=membership.role == Role.OWNER,
        )
    return context
