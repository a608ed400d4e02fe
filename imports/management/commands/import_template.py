"""``manage.py import_template KIND FILE [--as USERNAME] [--language L]``: write the
template workbook of a kind of import, with the columns that user may fill in."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation

from crm.accounts.models import User

from ...templates import TEMPLATES, write_template


class Command(BaseCommand):
    help = "Write a template workbook to import: of a kind, of the whole archive, or a preset table."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=TEMPLATES, help="A kind, archive (every sheet) or a preset table.")
        parser.add_argument("file")
        parser.add_argument("--as", dest="username", help="The columns this user may fill in (default: every one).")
        parser.add_argument("--language", default=settings.LANGUAGE_CODE, help="Headers in (zh-hans, en).")

    def handle(self, *args: Any, **options: Any) -> None:
        user = None
        if options["username"]:
            user = User.objects.filter(username=options["username"], is_active=True).first()
            if user is None:
                raise CommandError(f"No active user named {options['username']!r}.")
        with translation.override(options["language"]):
            write_template(options["kind"], user, options["file"])
        self.stdout.write(f"Template of {options['kind']} written to {options['file']}.")
