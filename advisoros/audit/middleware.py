"""django-auditlog's request context, without trusting a forged X-Forwarded-For."""

from __future__ import annotations

from auditlog.middleware import AuditlogMiddleware

from advisoros.http import client_ip

# The client portal's pages: what happens there is a client's doing, never the
# staff member who may be signed in in the same browser (the portal keeps its
# own session and records the contact in its activity log).
PORTAL_PREFIX = "/p/"


class AuditContextMiddleware(AuditlogMiddleware):
    @staticmethod
    def _get_remote_addr(request):
        return client_ip(request)

    @staticmethod
    def _get_remote_port(request):
        return None

    @staticmethod
    def _get_actor(request):
        if request.path_info.startswith(PORTAL_PREFIX):
            return None
        return AuditlogMiddleware._get_actor(request)
