"""``manage.py verify_audit``: prove the audit trail was not altered; exit 1 if it was."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from crm.audit.selectors import audit_chain_breaks


class Command(BaseCommand):
    help = "Check the audit log's hash chain; exits non-zero on a break."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=100, help="Report at most this many breaks.")

    def handle(self, *args: Any, **options: Any) -> None:
        count, breaks = audit_chain_breaks(limit=options["limit"])
        if not breaks:
            self.stdout.write(self.style.SUCCESS(f"OK: {count} events, chain intact"))
            return
        for item in breaks:
            self.stderr.write(f"#{item.seq}: {item.problem}")
        raise CommandError(f"audit chain broken in {len(breaks)} place(s) of {count} events")
