"""``manage.py create_api_token USERNAME [--scopes ...]``: print a new API token once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from crm.accounts.models import User
from crm.accounts.services import api_token_create
from crm.audit.choices import Source
from crm.audit.context import audit_context
from crm.core.errors import DomainError


class Command(BaseCommand):
    help = "Create an API token for a user and print its key (shown only this once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--scopes",
            nargs="+",
            default=["read"],
            help="read, write, or <resource>:read / <resource>:write (e.g. customers:read transactions:write).",
        )
        parser.add_argument("--name", default="", help="What the token is for (e.g. 'ERP sync').")
        parser.add_argument("--expires-days", type=int, default=None, help="Expire after this many days.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            user = User.objects.get(username=options["username"])
        except User.DoesNotExist as exc:
            raise CommandError(f"No user named {options['username']!r}.") from exc
        if not user.is_active:
            raise CommandError(f"User {user.username!r} is deactivated.")
        days = options["expires_days"]
        if days is not None and days <= 0:
            raise CommandError("--expires-days must be a positive number of days.")
        expires_at = timezone.now() + timedelta(days=days) if days else None
        with audit_context(source=Source.COMMAND):
            try:
                token, key = api_token_create(
                    actor=None,
                    user=user,
                    name=options["name"] or f"{user.username} (command line)",
                    scopes=options["scopes"],
                    expires_at=expires_at,
                )
            except DomainError as exc:
                raise CommandError(f"{exc.message} {exc.field_errors.get('scopes', '')}") from exc
        self.stderr.write(f"Token {token.prefix}… for {user.username}, scopes: {' '.join(token.scopes)}")
        self.stdout.write(key)
