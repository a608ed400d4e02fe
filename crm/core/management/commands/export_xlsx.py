"""``manage.py export_xlsx KIND FILE [--as USERNAME] [--language L] [name=value ...]``:
export a list to an Excel workbook (or CSV, by the file's extension) as that user sees
it.

It goes through the API's own export of the resource, so the record scope, the field
policy, the filters (``industry=it``, ``search=华东``, ``ordering=-updated_at`` …) and
the audit event are those of the API; the event names the command as its source.
Without ``--as`` it exports as the first active admin.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation
from rest_framework.test import APIRequestFactory, force_authenticate

from crm.access.registry import get_resource, resource_names
from crm.audit.choices import Source
from crm.audit.context import audit_context
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
        params["format"] = "csv" if target.suffix.lower() == ".csv" else "xlsx"
        request = APIRequestFactory().get(f"/api/v1/{resource.name}/export/", params)
        force_authenticate(request, user=user)
        view = resource.viewset.as_view({"get": "export"})
        with translation.override(options["language"]), audit_context(source=Source.COMMAND):
            response = view(request)
            if response.status_code != 200:
                response.render()
                raise CommandError(f"Refused ({response.status_code}): {response.content.decode()[:500]}")
            with target.open("wb") as out:
                for part in response.streaming_content:
                    out.write(part if isinstance(part, bytes) else part.encode())
        rows = response.get("X-Rows")
        counted = f"{rows} rows" if rows is not None else "rows"
        self.stdout.write(f"Exported {counted} of {resource.name} as {user.username} to {target}.")
