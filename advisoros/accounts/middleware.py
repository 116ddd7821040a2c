"""Sign people out after their firm's idle timeout."""

from __future__ import annotations

import time

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login

LAST_SEEN_KEY = "last_seen"
TIMEOUT_KEY = "idle_timeout"
DEFAULT_TIMEOUT = 60 * 60
# Writing the session on every request would cost a query each time.
TOUCH_EVERY = 60


class IdleTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = int(time.time())
            last_seen = request.session.get(LAST_SEEN_KEY, now)
            timeout = request.session.get(TIMEOUT_KEY, DEFAULT_TIMEOUT)
            if now - last_seen > timeout:
                # The logout receiver records it as session_expired, not a sign-out.
                request.session_expired = True
                logout(request)
                messages.info(
                    request, "You were signed out after a period of inactivity."
                )
                return redirect_to_login(request.get_full_path())
            if now - last_seen >= TOUCH_EVERY or LAST_SEEN_KEY not in request.session:
                request.session[LAST_SEEN_KEY] = now
        return self.get_response(request)


def idle_timeout_refresh(request, memberships) -> None:
    """The strictest idle timeout among the person's firms applies to the session."""
    minutes = [m.organization.session_timeout_minutes for m in memberships]
    request.session[TIMEOUT_KEY] = min(minutes) * 60 if minutes else DEFAULT_TIMEOUT
    request.session[LAST_SEEN_KEY] = int(time.time())
