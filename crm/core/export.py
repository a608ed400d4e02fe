"""Export of any list endpoint: ``GET /api/v1/<resource>/export/`` as CSV, or as an Excel
workbook with ``?format=xlsx``.

The export is one more reading channel, so it takes the same road as the list: rows
from the record scope, the same filter, search and ordering parameters (under the
field policy), and each row rendered by the resource's own serializer, which leaves out
hidden fields and masks masked ones.  Rows are read in chunks, so a million customers
export in constant memory (CSV streams as it goes; a workbook is written row by row to a
temporary file, then sent).  Every export is audited with its format and parameters.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from itertools import islice
from typing import Any

from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.decorators import action
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request

from crm.access.policy import Level, policy_for
from crm.access.registry import field_labels
from crm.audit.choices import Action
from crm.audit.services import audit_bulk

from .spreadsheets import XlsxSheet, csv_cell, xlsx_download

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
    def export(self, request: Request) -> StreamingHttpResponse | FileResponse:
        """Every row the caller may see, as CSV (UTF-8 with a byte-order mark for
        spreadsheets) or, with ``format=xlsx``, as an Excel workbook."""
        chosen = request.query_params.get("format") or "csv"
        if chosen not in FORMATS:
            raise exceptions.ValidationError({"format": [_("Choose csv or xlsx.")]})
        queryset = self.filter_queryset(self.get_queryset())  # type: ignore[attr-defined]
        columns = self.export_columns(request)
        resource = str(getattr(self, "resource", ""))
        audit_bulk(
            resource=self.model._meta.label_lower,  # type: ignore[attr-defined]
            actor=request.user,
            action=Action.EXPORT,
            summary={
                "label": f"export {resource}",
                "format": chosen,
                "query": dict(request.query_params.lists()),
                "columns": columns,
            },
        )
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        if chosen == "xlsx":
            return self._xlsx(queryset, columns, f"{resource}-{stamp}.xlsx")
        response = StreamingHttpResponse(self._csv(queryset, columns), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{resource}-{stamp}.csv"'
        return response

    def _chunks(self, queryset: Any) -> Iterator[list[dict[str, Any]]]:
        records = queryset.iterator(chunk_size=CHUNK_SIZE)
        while chunk := list(islice(records, CHUNK_SIZE)):
            yield self.get_serializer(chunk, many=True).data  # type: ignore[attr-defined]

    def _csv(self, queryset: Any, columns: list[str]) -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(columns)
        yield "\ufeff" + buffer.getvalue()
        for rows in self._chunks(queryset):
            buffer.seek(0)
            buffer.truncate()
            for data in rows:
                writer.writerow([csv_cell(data.get(name)) for name in columns])
            yield buffer.getvalue()

    def _xlsx(self, queryset: Any, columns: list[str], filename: str) -> FileResponse:
        fields = self.get_serializer().fields  # type: ignore[attr-defined]
        headers = dict(field_labels(type(self)))
        written = 0

        def write(target: Any) -> None:
            nonlocal written
            sheet = XlsxSheet.new(
                target,
                title=str(self.model._meta.verbose_name_plural),  # type: ignore[attr-defined]
                columns=[(name, headers.get(name, name), fields.get(name)) for name in columns],
            )
            for rows in self._chunks(queryset):
                sheet.write(rows)
            sheet.close()
            written = sheet.rows

        response = xlsx_download(write, filename)
        response["X-Rows"] = str(written)
        return response
