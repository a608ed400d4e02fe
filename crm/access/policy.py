"""The field policy: what level a user has on one field of one resource.

Levels are ordered ``hidden < masked < read < propose < write``.  ``propose`` reads like
``read`` and is refused like ``read`` for a direct write; a change to such a field
becomes a change request that a manager of the record's team (or an admin) approves
(``crm.access.changes``).  Admins set them per resource,
field and role (``FieldPermission`` rows); a field without a row is ``write`` for every
role (the API's own read-only fields stay read-only).  Every channel asks this module:
serializers, filter/search/ordering parameters, the timeline and the audit viewer.

The whole policy is a few hundred rows.  It is cached in the shared cache (Redis) and in
each process under the rows' generation (``crm.core.generations``), which any change to
them replaces, so a change applies on the next request of every worker without a restart;
a request reads the generation with the others, in one small query.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum
from typing import Any

from django.core.cache import cache
from django.db import connection

from crm.accounts.choices import Role
from crm.core import generations

from .choices import FieldLevel
from .models import FieldPermission

_REQUEST_ATTR = "_crm_field_policy"


class Level(IntEnum):
    HIDDEN = 0
    MASKED = 1
    READ = 2
    PROPOSE = 3
    WRITE = 4

    @classmethod
    def of(cls, value: str) -> Level:
        return cls[value.upper()]


DEFAULT_LEVEL = Level.WRITE
#: (resource, role) → {field: (level, reveal allowed)}
PolicyTable = dict[tuple[str, str], dict[str, tuple[Level, bool]]]


def _load() -> PolicyTable:

    table: PolicyTable = {}
    for resource, field, role, level, reveal in FieldPermission.objects.values_list(
        "resource", "field", "role", "level", "reveal_allowed"
    ):
        table.setdefault((resource, role), {})[field] = (Level.of(level), reveal)
    return table


def _content_digest() -> str:
    """A digest of the rows' content, which the database computes: their key in the shared
    cache when they have no generation (a table emptied by a test's flush)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT md5(coalesce(string_agg(concat_ws('|', resource, field, role, level, reveal_allowed), ',' "
            "ORDER BY resource, field, role), '')) FROM access_fieldpermission"
        )
        (digest,) = cursor.fetchone()
    return str(digest)


def _shared_table(token: str | None) -> PolicyTable:
    """The table from the shared cache (Redis) under the rows' generation, loaded and put
    there when it is not."""
    key = f"field-policy:{token or _content_digest()}"
    table = cache.get(key)
    if table is None:
        table = _load()
        cache.set(key, table, timeout=24 * 3600)
    return table  # type: ignore[no-any-return]


def _cached_table() -> PolicyTable:
    """The policy table, kept by the process while the rows' generation holds.

    Any insert, update or delete of the rows (even one made outside the application)
    replaces the generation in the same transaction, so every worker sees a change on its
    next request, and a rolled-back change is never served.  The table is never changed
    after it is loaded.
    """
    return generations.kept(generations.FIELD_POLICY, _shared_table)


def role_for_policy(user: Any) -> str:
    if getattr(user, "is_superuser", False):
        return str(Role.ADMIN)
    return str(getattr(user, "role", ""))


class UserPolicy:
    """The levels of one user, read once per request."""

    def __init__(self, user: Any, table: PolicyTable) -> None:
        self.user = user
        self.role = role_for_policy(user)
        self.table = table

    def level(self, resource: str, field: str) -> Level:
        if not getattr(self.user, "is_authenticated", False):
            return Level.HIDDEN
        entry = self.table.get((resource, self.role), {}).get(field)
        return entry[0] if entry else DEFAULT_LEVEL

    def can_reveal(self, resource: str, field: str) -> bool:
        """A masked value may be revealed (with a reason) unless the admin turned that off."""
        entry = self.table.get((resource, self.role), {}).get(field)
        return self.level(resource, field) >= Level.READ or bool(entry and entry[1])

    def levels(self, resource: str, fields: Any) -> Mapping[str, Level]:
        return {name: self.level(resource, name) for name in fields}


def policy_for(user: Any, request: Any = None) -> UserPolicy:
    """The user's policy, memoised on the request when there is one."""
    if request is not None:
        cached = getattr(request, _REQUEST_ATTR, None)
        if cached is not None and cached.user is user:
            return cached  # type: ignore[no-any-return]
    policy = UserPolicy(user, _cached_table())
    if request is not None:
        setattr(request, _REQUEST_ATTR, policy)
    return policy


LEVEL_CHOICES = FieldLevel
