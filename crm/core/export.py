"""Export of any list endpoint: ``GET /api/v1/<resource>/export/`` as CSV, or as an Excel
workbook with ``?format=xlsx``.

The export is one more reading channel, so it takes the same road as the list: rows
from the record scope, the same filter, search and ordering parameters (under the
field policy), and each row rendered by the resource's own serializer, which leaves out
hidden fields and masks masked ones.  Rows are read in chunks, so a million customers
export in constant memory (CSV streams as it goes; a workbook is written row by row to a
temporary file, then sent).  Every export is audited with its format and parameters.
A list of more rows than ``CRM_EXPORT_BACKGROUND_ROWS`` is written by a worker, with
its progress and a link that expires (``crm.core.exports``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from itertools import islice
from typing import IO, Any

from django.db import transaction
from django.http import HttpResponseRedirect, StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.decorators import action
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from crm.access.policy import Level, policy_for
from crm.access.registry import field_labels
from crm.audit.choices import Action
from crm.audit.services import audit_bulk

from . import exports, tasks
from .choices import JobState
from .spreadsheets import XLSX, XlsxSheet, csv_cell, xlsx_download

CHUNK_SIZE = 2000
FORMATS = ("csv", "xlsx")


class ExportMixin:
    """Adds the ``export`` list action to a :class:`~crm.core.api.ScopedModelViewSet`."""

    #: Actions that answer a file of their own: their errors are JSON, whatever is asked.
    file_actions: frozenset[str] = frozenset({"export"})

    def export_columns(self, request: Request) -> list[str]:
        serializer = self.get_serializer()  # type: ignore[attr-defined]
        names = [name for name, field in serializer.fields.items() if not field.write_only]
        resource = getattr(serializer, "policy_resource", None)
        if resource is None:
            return names
        policy = policy_for(request.user, request)
        return [name for name in names if policy.level(resource, name) > Level.HIDDEN]

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        # ``?format=`` names the file's format here, not a renderer; an export's errors
        # are JSON like every other answer of the API.
        if getattr(self, "action", None) in self.file_actions:
            renderer = JSONRenderer()
            return renderer, renderer.media_type
        return super().perform_content_negotiation(request, force)  # type: ignore[misc]

    @action(detail=False, methods=["get"], url_path="export")
    def export(self, request: Request) -> Any:
        """Every row the caller may see, as CSV (UTF-8 with a byte-order mark for
        spreadsheets) or, with ``format=xlsx``, as an Excel workbook.

        A list of more rows than ``CRM_EXPORT_BACKGROUND_ROWS`` is written by a worker:
        the answer is 202 with the export's progress (a browser is sent to its page), and
        ``?export=<id>`` answers its progress (202), then the file (200) until it
        expires (410)."""
        if "export" in request.query_params:
            return self._background(request, request.query_params["export"])
        chosen = request.query_params.get("format") or "csv"
        if chosen not in FORMATS:
            raise exceptions.ValidationError({"format": [_("Choose csv or xlsx.")]})
        queryset = self.filter_queryset(self.get_queryset())  # type: ignore[attr-defined]
        columns = self.export_columns(request)
        resource = str(getattr(self, "resource", ""))
        self.audit_export(request, chosen, columns)
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        file_name = f"{resource}-{stamp}.{chosen}"
        if exports.is_large(queryset):
            job = exports.export_start(
                actor=request.user,
                resource=resource,
                format=chosen,
                query=dict(request.query_params.lists()),
                file_name=file_name,
            )
            transaction.on_commit(lambda: tasks.run_export.delay(job.pk))
            if "text/html" in request.headers.get("Accept", "") and request.auth is None:
                return HttpResponseRedirect(reverse("export-page", args=[job.pk]), status=303)
            return self._status_answer(request, job)
        if chosen == "xlsx":
            fields = self.get_serializer().fields  # type: ignore[attr-defined]
            written = 0

            def write(target: Any) -> None:
                nonlocal written
                written = self.write_export(queryset, columns, "xlsx", target, fields=fields)

            workbook = xlsx_download(write, file_name)
            workbook["X-Rows"] = str(written)
            return workbook
        response = StreamingHttpResponse(self._csv(queryset, columns), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{file_name}"'
        return response

    def audit_export(self, request: Request, chosen: str, columns: list[str]) -> None:
        """The audit event of an export: who, which list, the format, the query and the
        columns (what left the system)."""
        audit_bulk(
            resource=self.model._meta.label_lower,  # type: ignore[attr-defined]
            actor=request.user,
            action=Action.EXPORT,
            summary={
                "label": f"export {getattr(self, 'resource', '')}",
                "format": chosen,
                "query": dict(request.query_params.lists()),
                "columns": columns,
            },
        )

    def _background(self, request: Request, export_id: str) -> Any:
        """An export written by a worker: its progress, its file, or why neither."""
        job = exports.export_of(request.user, export_id)
        if job is None or job.resource != str(getattr(self, "resource", "")):
            raise exceptions.NotFound(_("No export of yours has this number."))
        if exports.expired(job):
            return Response({"detail": _("This export has expired; ask for it again.")}, status=status.HTTP_410_GONE)
        if job.state == JobState.FAILED:
            return Response({"detail": exports.failure_message(job)}, status=status.HTTP_409_CONFLICT)
        if job.state != JobState.DONE:
            return self._status_answer(request, job)
        content_type = XLSX if job.format == "xlsx" else "text/csv; charset=utf-8"
        response = StreamingHttpResponse(exports.export_stream(job), content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{job.file_name}"'
        response["Content-Length"] = str(job.size)
        response["X-Rows"] = str(job.rows)
        return response

    def _status_answer(self, request: Request, job: Any) -> Response:
        url = f"{request.path}?export={job.pk}"
        data = {**exports.export_status(job), "url": url}
        return Response(data, status=status.HTTP_202_ACCEPTED, headers={"Location": url})

    def _chunks(self, queryset: Any) -> Iterator[list[dict[str, Any]]]:
        records = queryset.iterator(chunk_size=CHUNK_SIZE)
        while chunk := list(islice(records, CHUNK_SIZE)):
            yield self.get_serializer(chunk, many=True).data  # type: ignore[attr-defined]

    def _csv(self, queryset: Any, columns: list[str]) -> Iterator[str]:
        return (text for text, _rows in self._csv_parts(queryset, columns))

    def _csv_parts(self, queryset: Any, columns: list[str]) -> Iterator[tuple[str, int]]:
        """The CSV text, a chunk of rows at a time, with how many rows each holds."""
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(columns)
        yield "\ufeff" + buffer.getvalue(), 0
        for rows in self._chunks(queryset):
            buffer.seek(0)
            buffer.truncate()
            for data in rows:
                writer.writerow([csv_cell(data.get(name)) for name in columns])
            yield buffer.getvalue(), len(rows)

    def write_export(
        self,
        queryset: Any,
        columns: list[str],
        chosen: str,
        target: IO[bytes],
        *,
        fields: Any = None,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Write the rows of ``queryset`` to ``target`` as CSV or a workbook, in constant
        memory, telling ``progress`` the rows written after each chunk; returns how many."""
        if chosen == "csv":
            written = 0
            for text, count in self._csv_parts(queryset, columns):
                target.write(text.encode("utf-8"))
                written += count
                if progress is not None and count:
                    progress(written)
            return written
        fields = fields if fields is not None else self.get_serializer().fields  # type: ignore[attr-defined]
        headers = dict(field_labels(type(self)))
        sheet = XlsxSheet.new(
            target,
            title=str(self.model._meta.verbose_name_plural),  # type: ignore[attr-defined]
            columns=[(name, headers.get(name, name), fields.get(name)) for name in columns],
        )
        for rows in self._chunks(queryset):
            sheet.write(rows)
            if progress is not None:
                progress(sheet.rows)
        sheet.close()
        return int(sheet.rows)
