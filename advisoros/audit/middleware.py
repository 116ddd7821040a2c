"""django-auditlog's request context, without trusting a forged X-Forwarded-For."""

from __future__ import annotations

from auditlog.middleware import AuditlogMiddleware

from advisoros.http import client_ip


class AuditContextMiddleware(AuditlogMiddleware):
    @staticmethod
    def _get_remote_addr(request):
        return client_ip(request)

    @staticmethod
    def _get_remote_port(request):
        return None
