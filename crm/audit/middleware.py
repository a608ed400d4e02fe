"""Attach a request id, client IP and source to everything a request writes."""

from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from . import context
from .choices import Source

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def client_ip(request: HttpRequest) -> str | None:
    # X-Forwarded-For is trusted only when a proxy is declared in front of the app.
    from django.conf import settings

    if getattr(settings, "CRM_TRUST_X_FORWARDED_FOR", False):
        # The client writes the first entry: one that is not an address is not recorded.
        first = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")[0].strip()
        if _is_address(first):
            return first
    address = request.META.get("REMOTE_ADDR") or ""
    return address if _is_address(address) else None


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


class AuditContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        path = request.path
        source = Source.API if path.startswith("/api/") else Source.ADMIN if path.startswith("/admin/") else Source.UI
        ctx = context.AuditContext(source=source, request_id=request_id, ip=client_ip(request))
        token = context.set_for_request(ctx)
        request.request_id = request_id  # type: ignore[attr-defined]
        try:
            response = self.get_response(request)
        finally:
            context.reset(token)
        response["X-Request-ID"] = request_id
        return response
