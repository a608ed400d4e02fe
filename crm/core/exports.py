"""Large exports, written by a worker: a list of more rows than
``CRM_EXPORT_BACKGROUND_ROWS`` (20,000) is not sent at once but becomes an
:class:`~crm.core.models.ExportFile`.  The worker reads the list again as the person who
asked (the same record scope, filters, search, ordering and field policy, through the
resource's own viewset), writes the file in constant memory to a temporary file, telling
its progress every chunk of rows, then keeps it in parts of a few megabytes.  The file
can be fetched by the person who asked until it expires (``CRM_EXPORT_KEEP_HOURS``, 24),
streamed a part at a time; expired exports are removed every hour.

The task is acknowledged late: a worker that dies mid-export leaves it running and the
task, delivered again, writes the file anew; its parts are replaced in one transaction
with the "done" mark, so a file is never half kept.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterator, Mapping
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, QueryDict
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from rest_framework.request import Request

from crm.access.registry import get_resource

from .choices import JobState
from .models import ExportFile, ExportPart

#: The size of a kept part of a file.
PART_BYTES = 4 * 1024 * 1024


def background_rows() -> int:
    """From how many rows a list is exported by a worker (``CRM_EXPORT_BACKGROUND_ROWS``)."""
    return max(1, int(getattr(settings, "CRM_EXPORT_BACKGROUND_ROWS", 20_000)))


def keep_hours() -> int:
    """How long a finished export can be fetched (``CRM_EXPORT_KEEP_HOURS``)."""
    return max(1, int(getattr(settings, "CRM_EXPORT_KEEP_HOURS", 24)))


def is_large(queryset: Any) -> bool:
    """Whether a list has more rows than are sent at once (counted no further than that)."""
    return queryset[: background_rows() + 1].count() > background_rows()


def export_start(
    *, actor: Any, resource: str, format: str, query: Mapping[str, list[str]], file_name: str, total: int = 0
) -> ExportFile:
    """Keep what is asked; the caller queues the worker (``tasks.run_export``)."""
    return ExportFile.objects.create(
        requested_by=actor,
        resource=resource,
        format=format,
        query={key: list(values) for key, values in query.items() if key not in ("format", "export")},
        language=translation.get_language() or "",
        file_name=file_name[:200],
        total=total,
        expires_at=timezone.now() + dt.timedelta(hours=keep_hours()),
    )


def export_run(*, export_id: int) -> ExportFile | None:
    """Write the file of an export (again, if a worker died writing it); safe to run at
    any moment."""
    export = ExportFile.objects.select_related("requested_by").filter(pk=export_id).first()
    if export is None or export.state == JobState.DONE or export.expires_at <= timezone.now():
        return export
    ExportFile.objects.filter(pk=export.pk).update(state=JobState.RUNNING, rows=0, error="")
    viewset = viewset_for(export.resource, export.requested_by, export.query)
    try:
        with translation.override(export.language or settings.LANGUAGE_CODE), tempfile.TemporaryFile() as target:
            queryset = viewset.filter_queryset(viewset.get_queryset())
            columns = viewset.export_columns(viewset.request)
            total = queryset.count()
            ExportFile.objects.filter(pk=export.pk).update(total=total)

            def progress(rows: int) -> None:
                ExportFile.objects.filter(pk=export.pk).update(rows=rows)

            rows = viewset.write_export(queryset, columns, export.format, target, progress=progress)
            size = target.tell()
            target.seek(0)
            with transaction.atomic():
                ExportPart.objects.filter(export=export).delete()
                number = 0
                while part := target.read(PART_BYTES):
                    ExportPart.objects.create(export=export, number=number, content=part)
                    number += 1
                ExportFile.objects.filter(pk=export.pk).update(
                    state=JobState.DONE, rows=rows, total=rows, size=size, finished_at=timezone.now()
                )
    except Exception as error:
        ExportFile.objects.filter(pk=export.pk).update(
            state=JobState.FAILED, error=error.__class__.__name__, finished_at=timezone.now()
        )
        raise
    export.refresh_from_db()
    return export


def viewset_for(resource_name: str, user: Any, query: Mapping[str, list[str]]) -> Any:
    """The resource's viewset, set up to read its list as ``user`` with ``query`` (the
    filters, search and ordering of the export), as if they had asked for it."""
    resource = get_resource(resource_name)
    if resource is None:
        raise LookupError(resource_name)
    django_request = HttpRequest()
    django_request.method = "GET"
    django_request.user = user
    parameters = QueryDict(mutable=True)
    for key, values in query.items():
        parameters.setlist(key, [str(value) for value in values])
    django_request.GET = parameters  # type: ignore[assignment]
    request = Request(django_request)
    request.user = user
    request.auth = None
    viewset = resource.viewset()
    viewset.request = request
    viewset.args = ()
    viewset.kwargs = {}
    viewset.format_kwarg = None
    viewset.action = "export"
    viewset.headers = {}
    return viewset


def export_of(user: Any, export_id: Any) -> ExportFile | None:
    """The export ``export_id`` if ``user`` asked for it (nobody else's, whatever the id)."""
    text = str(export_id)
    if not text.isdigit() or len(text) > 18:
        return None
    return ExportFile.objects.filter(pk=int(text), requested_by=user).first()


def export_status(export: ExportFile) -> dict[str, Any]:
    """What an export's asker reads while it runs."""
    return {
        "export": export.pk,
        "state": export.state,
        "rows": export.rows,
        "total": export.total,
        "percent": export.percent,
        "file_name": export.file_name,
        "expires_at": export.expires_at.isoformat(),
        "error": export.error,
    }


def expired(export: ExportFile) -> bool:
    return export.expires_at <= timezone.now()


def export_stream(export: ExportFile) -> Iterator[bytes]:
    """The file of a finished export, a part at a time."""
    numbers = list(export.parts.order_by("number").values_list("number", flat=True))
    for number in numbers:
        content = ExportPart.objects.filter(export=export, number=number).values_list("content", flat=True).first()
        if content is not None:
            yield bytes(content)


def exports_purge() -> int:
    """Remove the exports whose time is up; returns how many."""
    deleted, _by_model = ExportFile.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted


def failure_message(export: ExportFile) -> str:
    return _("The export could not be written (%(error)s); ask for it again.") % {"error": export.error or "?"}
