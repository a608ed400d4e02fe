"""Requests refused before any view reads them."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse, QueryDict
from django.utils.translation import gettext as _

#: The bodies Django reads into ``request.POST``.
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


def _holds_nul(values: QueryDict) -> bool:
    return any("\x00" in name or any("\x00" in value for value in items) for name, items in values.lists())


class NulRefusedMiddleware:
    """A query parameter or form field holding a NUL character is refused with a 400.

    PostgreSQL can neither store nor compare text with a NUL in it, so no such value
    means anything, and a page that filters or writes by a parameter as given would fail
    on it with a 500.  The API answers in its JSON error shape, pages with a plain 400.
    (JSON bodies are read by the API, whose fields refuse NUL themselves.)
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        form = request.method == "POST" and request.content_type in _FORMS
        if _holds_nul(request.GET) or (form and _holds_nul(request.POST)):
            message = _("A parameter holds a NUL character.")
            if request.path.startswith("/api/"):
                return JsonResponse({"code": "invalid", "message": message}, status=400)
            return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
