"""Values of records as a page shows them, under the field policy: the one helper every
HTML page and template uses (``{% field_value %}`` is a thin wrapper over it).

A hidden field has no column and no value; a masked field shows its masked form; a
choice shows its label; a related record its name.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import FieldDoesNotExist

from .masking import kind_of, mask_value
from .policy import Level, UserPolicy

HIDDEN = object()


def _raw(obj: Any, field: str) -> Any:
    if isinstance(obj, dict):
        return obj.get(field)
    return getattr(obj, field, None)


def _shown(obj: Any, field: str) -> Any:
    if isinstance(obj, dict):
        return obj.get(field)
    getter = getattr(obj, f"get_{field}_display", None)
    return getter() if callable(getter) else getattr(obj, field, None)


def display_value(policy: UserPolicy, resource: str, obj: Any, field: str) -> Any:
    """``HIDDEN`` for a hidden field, the masked form for a masked one, else the value
    (a choice's label rather than its code)."""
    level = policy.level(resource, field)
    if level == Level.HIDDEN:
        return HIDDEN
    if level == Level.MASKED:
        return mask_value(_raw(obj, field), kind_of(resource, field))
    return _shown(obj, field)


def visible_columns(policy: UserPolicy, resource: str, model: Any, fields: Iterable[str]) -> list[tuple[str, str]]:
    """The (field, label) pairs of ``fields`` the user may see at all, labels from the model."""
    columns = []
    for name in fields:
        if policy.level(resource, name) == Level.HIDDEN:
            continue
        try:
            label = str(model._meta.get_field(name).verbose_name)
        except FieldDoesNotExist:
            label = str(getattr(model, "COLUMN_LABELS", {}).get(name, name))
        columns.append((name, label[:1].upper() + label[1:]))
    return columns


def table(policy: UserPolicy, resource: str, model: Any, rows: Iterable[Any], fields: Iterable[str]) -> dict[str, Any]:
    """Columns and cell values of a list of records, ready for a generic table template."""
    columns = visible_columns(policy, resource, model, fields)
    return {
        "columns": columns,
        "rows": [
            {"obj": row, "cells": [display_value(policy, resource, row, name) for name, _ in columns]} for row in rows
        ],
    }
