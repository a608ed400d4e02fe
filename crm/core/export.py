"""CSV export of any list endpoint: ``GET /api/v1/<resource>/export/``.

The export is one more reading channel, so it takes the same road as the list: rows
from the record scope, the same filter, search and ordering parameters (under the
field policy), and each row rendered by the resource's own serializer, which leaves out
hidden fields and masks masked ones.  Rows are streamed in chunks, so a million
customers export in constant memory; every export is audited with its parameters.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from itertools import islice
from typing import Any

from django.http import StreamingHttpResponse
from django.utils import timezone
from rest_framework.decorators import action
from rest_framework.request import Request

from crm.access.policy import Level, policy_for
from crm.audit.choices import Action
from crm.audit.services import audit_bulk

CHUNK_SIZE = 2000
# Spreadsheet programs run a cell that starts with one of these as a formula.
_FORMULA_START = ("=", "+", "@", "\t", "\r")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    text = str(value)
    if text.startswith(_FORMULA_START) or (text.startswith("-") and not text[1:2].isdigit()):
        return "'" + text
    return text


class ExportMixin:
    """Adds the ``export`` list action to a :class:`~crm.core.api.ScopedModelViewSet`."""

    def export_columns(self, request: Request) -> list[str]:
        serializer = self.get_serializer()  # type: ignore[attr-defined]
        names = [name for name, field in serializer.fields.items() if not field.write_only]
        resource = getattr(serializer, "policy_resource", None)
        if resource is None:
            return names
        policy = policy_for(request.user, request)
        return [name for name in names if policy.level(resource, name) > Level.HIDDEN]

    @action(detail=False, methods=["get"], url_path="export")
    def export(self, request: Request) -> StreamingHttpResponse:
        """Every row the caller may see, as CSV (UTF-8 with a byte-order mark for spreadsheets)."""
        queryset = self.filter_queryset(self.get_queryset())  # type: ignore[attr-defined]
        columns = self.export_columns(request)
        resource = str(getattr(self, "resource", ""))
        audit_bulk(
            resource=self.model._meta.label_lower,  # type: ignore[attr-defined]
            actor=request.user,
            action=Action.EXPORT,
            summary={"label": f"export {resource}", "query": dict(request.query_params.lists()), "columns": columns},
        )

        def rows() -> Iterator[str]:
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            writer.writerow(columns)
            yield "\ufeff" + buffer.getvalue()
            records = queryset.iterator(chunk_size=CHUNK_SIZE)
            while chunk := list(islice(records, CHUNK_SIZE)):
                buffer.seek(0)
                buffer.truncate()
                for data in self.get_serializer(chunk, many=True).data:  # type: ignore[attr-defined]
                    writer.writerow([_cell(data.get(name)) for name in columns])
                yield buffer.getvalue()

        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="{resource}-{stamp}.csv"'
        return response
