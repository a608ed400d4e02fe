"""Writes of field-permission data, validated against the API's real resources and fields."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from crm.accounts.choices import Role
from crm.core.errors import DomainError, VersionConflict
from crm.core.services import record_create, record_delete, record_update

from .choices import FieldLevel
from .models import FieldPermission
from .registry import get_resource


def resource_fields(resource: str) -> list[str] | None:
    """The field names of an API resource's representation, or None if there is no such resource."""
    found = get_resource(resource)
    return found.fields if found is not None else None


def _check(data: Mapping[str, Any], instance: FieldPermission | None) -> None:
    resource = data.get("resource", instance.resource if instance else "")
    field = data.get("field", instance.field if instance else "")
    fields = resource_fields(resource)
    if fields is None:
        raise DomainError(
            _("Unknown resource."), field_errors={"resource": [_("No API resource is called %(r)s.") % {"r": resource}]}
        )
    if field not in fields:
        raise DomainError(
            _("Unknown field."), field_errors={"field": [_("%(r)s has no field %(f)s.") % {"r": resource, "f": field}]}
        )


def field_permission_create(*, actor: Any, data: Mapping[str, Any]) -> FieldPermission:
    _check(data, None)
    return record_create(model=FieldPermission, actor=actor, data=data)


def field_permission_update(
    *, actor: Any, instance: FieldPermission, data: Mapping[str, Any], expected_version: int | None
) -> FieldPermission:
    _check(data, instance)
    return record_update(instance=instance, actor=actor, data=data, expected_version=expected_version)


def field_permission_delete(*, actor: Any, instance: FieldPermission, expected_version: int | None) -> None:
    record_delete(instance=instance, actor=actor, expected_version=expected_version)


# ------------------------------------------------------------------ the console's grid
Cell = tuple[str, bool]  # (level, reveal allowed)
DEFAULT_CELL: Cell = (FieldLevel.WRITE.value, True)


def policy_digest(resource: str) -> str:
    """A fingerprint of one resource's rows: the console sends it back to detect a
    concurrent edit of the same grid."""
    rows = FieldPermission.objects.filter(resource=resource).order_by("field", "role")
    text = ",".join(f"{r.field}|{r.role}|{r.level}|{r.reveal_allowed}" for r in rows)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@transaction.atomic
def field_policy_apply(
    *, actor: Any, resource: str, cells: Mapping[tuple[str, str], Cell], expected_digest: str | None
) -> int:
    """Save a resource's grid (field × role → level, reveal) as the admin left it.

    Only cells that differ from the stored policy are written, each as an audited create,
    update or delete; a cell set back to the default (``write``) removes its row.  The
    grid is refused if someone else saved this resource since it was loaded.  Returns the
    number of cells changed.
    """
    fields = resource_fields(resource)
    if fields is None:
        raise DomainError(_("Unknown resource."))
    # Lock the resource's rows so two admins saving at once are serialised.
    existing = {
        (row.field, row.role): row for row in FieldPermission.objects.select_for_update().filter(resource=resource)
    }
    if expected_digest is not None and expected_digest != policy_digest(resource):
        raise VersionConflict(
            message=_("Someone else changed this resource's permissions since you opened it. Reload and try again.")
        )
    unknown = sorted({field for field, _role in cells} - set(fields))
    if unknown:
        raise DomainError(_("Unknown fields: %(fields)s") % {"fields": ", ".join(unknown)})
    changed = 0
    for (field, role), (level, reveal) in sorted(cells.items()):
        if level not in FieldLevel.values or role not in Role.values:
            raise DomainError(_("Unknown level or role."))
        row = existing.get((field, role))
        current = (row.level, row.reveal_allowed) if row else DEFAULT_CELL
        if current == (level, reveal):
            continue
        changed += 1
        if (level, reveal) == DEFAULT_CELL and row is not None:
            record_delete(instance=row, actor=actor, expected_version=None)
        elif row is not None:
            record_update(
                instance=row, actor=actor, data={"level": level, "reveal_allowed": reveal}, expected_version=None
            )
        else:
            record_create(
                model=FieldPermission,
                actor=actor,
                data={"resource": resource, "field": field, "role": role, "level": level, "reveal_allowed": reveal},
            )
    return changed
