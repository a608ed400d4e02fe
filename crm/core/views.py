"""The health check used by load balancers and docker-compose, the answer to a URL that
matches no route, and the page of a large export."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.defaults import page_not_found
from rest_framework.exceptions import NotFound

from crm.celery import app

from . import exports


def _database_ok() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return True, "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means "down"
        return False, exc.__class__.__name__


def _broker_ok() -> tuple[bool, str]:

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            conn.default_channel.client.ping()  # type: ignore[attr-defined]
        return True, "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means "down"
        return False, exc.__class__.__name__


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """``{"status": "ok"|"degraded", "database": ..., "broker": ...}``; 503 when anything is down."""
    db_ok, db_detail = _database_ok()
    broker_ok, broker_detail = _broker_ok()
    healthy = db_ok and broker_ok
    return JsonResponse(
        {"status": "ok" if healthy else "degraded", "database": db_detail, "broker": broker_detail},
        status=200 if healthy else 503,
    )


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """A URL that matches no route (``/api/v1/customers/1.5/``): under ``/api/`` the JSON
    error every API answer has, elsewhere the site's page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"code": NotFound.default_code, "message": str(NotFound.default_detail)}, status=404)
    return page_not_found(request, exception)


@login_required
@require_GET
def export_page_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The page of a large export the user asked for: its progress while a worker writes
    it, then the link to the file until it expires."""
    export = exports.export_of(request.user, pk)
    if export is None:
        raise Http404
    context = {
        "export": export,
        "expired": exports.expired(export),
        "failure": exports.failure_message(export),
        "download_url": f"/api/v1/{export.resource}/export/?export={export.pk}",
    }
    return render(request, "exports/page.html", context)
