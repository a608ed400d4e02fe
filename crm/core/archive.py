"""The key-account archive workbook: one customer's whole archive (or a filtered set's)
in one workbook, a sheet per section.

The sections are the archive's of a core-customer table: basic information, contact
information, transaction history, feedback and suggestions, personalised service needs,
campaign participation, risk management and alerts, then service records, tier history,
follow-ups and satisfaction answers.  Each is a resource of the registry that declares
its place (``Resource.archive``), so an app adds a section by declaring it.

Every sheet is read the way the resource's list is (its viewset's queryset, so the
record scope; its serializer, so the field policy: hidden columns absent, masked values
masked) for the chosen customers.  A sheet whose resource an API token may not read is
left out.  The workbook is written in constant memory like any export, and audited.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import islice
from typing import Any

from django.http import FileResponse
from django.utils import timezone
from rest_framework.request import Request

from crm.access.registry import Resource, archive_resources, field_labels
from crm.audit.choices import Action
from crm.audit.services import audit_bulk

from .spreadsheets import XlsxBook, write_record, xlsx_download

CHUNK_SIZE = 2000
#: A filtered set's archive holds at most this many customers.
MOST_CUSTOMERS = 1000


def _view(resource: Resource, request: Request) -> Any:
    """The resource's viewset, set up to read as ``request``'s user reads its list."""
    view = resource.viewset()
    view.request = request
    view.args, view.kwargs = (), {}
    view.action = "list"
    view.format_kwarg = None
    return view


def _readable(resource: Resource, request: Request) -> bool:
    token = getattr(request, "auth", None)
    return token is None or not hasattr(token, "allows") or token.allows(resource.name, write=False)


def archive_response(request: Request, customer_ids: Sequence[int], *, name: str) -> FileResponse:
    """The archive workbook of ``customer_ids`` (already read through the record scope)
    as a download called ``name``; the basic information of one customer reads as a
    form (a field per line), of several as a table."""
    sheets: list[str] = []

    def write(target: Any) -> None:
        book = XlsxBook(target)
        for resource in archive_resources():
            if not _readable(resource, request):
                continue
            view = _view(resource, request)
            labels = dict(field_labels(resource.viewset))
            fields = view.get_serializer().fields
            columns = [
                (column, labels.get(column, column), fields.get(column)) for column in view.export_columns(request)
            ]
            title = str(resource.archive[1]) if resource.archive else resource.name
            the_customers = resource.model._meta.label_lower == "customers.customer"
            if the_customers:
                rows = view.get_queryset().filter(pk__in=customer_ids).order_by("pk")
            else:
                rows = view.get_queryset().filter(customer_id__in=customer_ids)
                rows = rows.order_by("customer_id", *getattr(view, "ordering", None) or ("pk",))
            if the_customers and len(customer_ids) == 1:
                record = rows.first()
                if record is not None:
                    write_record(book, title, columns, view.get_serializer(record).data)
                    sheets.append(resource.name)
                continue
            sheet = book.sheet(title, columns)
            records = rows.iterator(chunk_size=CHUNK_SIZE)
            while chunk := list(islice(records, CHUNK_SIZE)):
                sheet.write(view.get_serializer(chunk, many=True).data)
            sheet.close()
            sheets.append(resource.name)
        book.close()

    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = xlsx_download(write, f"{name}-{stamp}.xlsx")
    audit_bulk(
        resource="customers.customer",
        actor=request.user,
        action=Action.EXPORT,
        summary={"label": "archive", "format": "xlsx", "customers": list(customer_ids), "sheets": sheets},
    )
    return response
