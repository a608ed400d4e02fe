"""Writes of field-permission data, validated against the API's real resources and fields."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from django.utils.translation import gettext as _

from crm.core.errors import DomainError
from crm.core.services import record_create, record_delete, record_update

from .models import FieldPermission


def resource_fields(resource: str) -> list[str] | None:
    """The field names of an API resource's representation, or None if there is no such resource."""
    from crm.api_urls import router

    for prefix, viewset, _basename in router.registry:
        if prefix == resource:
            return list(cast(Any, viewset).serializer_class().fields)
    return None


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
