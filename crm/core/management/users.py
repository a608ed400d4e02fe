"""Who a management command acts as."""

from __future__ import annotations

from django.core.management.base import CommandError
from django.db.models import Q

from crm.accounts.choices import Role
from crm.accounts.models import User


def acting_user(username: str | None) -> User:
    """The active user named ``username`` (``--as``), or without one the first active
    admin: a command reads and writes as someone, with their scope and field policy."""
    users = User.objects.filter(is_active=True)
    if username:
        user = users.filter(username=username).first()
        if user is None:
            raise CommandError(f"No active user named {username!r}.")
        return user
    admin = users.filter(Q(is_superuser=True) | Q(role=Role.ADMIN)).order_by("pk").first()
    if admin is None:
        raise CommandError("There is no active admin; name the user with --as.")
    return admin
