"""``manage.py export_xlsx KIND FILE [--as USERNAME] [--language L] [name=value ...]``:
export a list to an Excel workbook (or CSV, by the file's extension) as that user sees
it.

It reads the list through the resource's own viewset, so the record scope, the field
policy, the filters (``industry=it``, ``search=华东``, ``ordering=-updated_at`` …) and
the audit event are those of the API's export; the event names the command as its
source.  The file is written in this process whatever the list's size (the API hands a
large list to a worker instead).  Without ``--as`` it exports as the first active admin.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation
from rest_framework import exceptions

from crm.access.registry import get_resource, resource_names
from crm.audit.choices import Source
from crm.audit.context import audit_context
from crm.core.exports import viewset_for
from crm.core.management.users import acting_user


class Command(BaseCommand):
    help = "Export a list (customers, contacts, transactions, …) to .xlsx or .csv as a user sees it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", help=f"The list: {', '.join(resource_names())}.")
        parser.add_argument("file", help="Where to write; .csv writes CSV, anything else an xlsx workbook.")
        parser.add_argument("filters", nargs="*", help="The list's filters as name=value (e.g. industry=it).")
        parser.add_argument("--as", dest="username", help="Export as this user (default: the first active admin).")
        parser.add_argument("--language", default=settings.LANGUAGE_CODE, help="Headers and labels in (zh-hans, en).")

    def handle(self, *args: Any, **options: Any) -> None:
        resource = get_resource(options["kind"])
        if resource is None:
            raise CommandError(f"No list called {options['kind']!r}; choose one of: {', '.join(resource_names())}.")
        user = acting_user(options["username"])
        params: dict[str, str] = {}
        for text in options["filters"]:
            name, sep, value = text.partition("=")
            if not sep or not name:
                raise CommandError(f"A filter is name=value, not {text!r}.")
            params[name] = value
        target = Path(options["file"])
        chosen = "csv" if target.suffix.lower() == ".csv" else "xlsx"
        # Written here, in this process, whatever the list's size (never a background job).
        viewset = viewset_for(resource.name, user, {name: [value] for name, value in params.items()})
        with translation.override(options["language"]), audit_context(source=Source.COMMAND):
            try:
                queryset = viewset.filter_queryset(viewset.get_queryset())
                columns = viewset.export_columns(viewset.request)
            except exceptions.APIException as error:
                raise CommandError(f"Refused ({error.status_code}): {error.detail}") from error
            viewset.audit_export(viewset.request, chosen, columns)
            with target.open("wb") as out:
                rows = viewset.write_export(queryset, columns, chosen, out)
        self.stdout.write(f"Exported {rows} rows of {resource.name} as {user.username} to {target}.")
