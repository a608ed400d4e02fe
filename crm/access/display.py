"""Values of records as a page shows them, under the field policy: the one helper every
HTML page and template uses (``{% field_value %}`` is a thin wrapper over it).

A hidden field has no column and no value; a masked field shows its masked form; a
choice shows its label; a related record its name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

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


#: Fields whose value, read in clear, is something to tap: a call, an e-mail, a map search.
_PHONES = frozenset({"phone", "mobile"})
_EMAILS = frozenset({"email"})
_PLACES = frozenset({"address"})
_DIALLED = re.compile(r"[^0-9+]")


def contact_link(policy: UserPolicy, resource: str, field: str, value: Any) -> str | None:
    """Where tapping a value goes: ``tel:`` for a phone, ``mailto:`` for an e-mail, a
    map search for an address; None for anything else, and for a value not read in
    clear (a masked number is not something to call)."""
    if not isinstance(value, str) or not value.strip() or policy.level(resource, field) < Level.READ:
        return None
    if field in _PHONES:
        number = _DIALLED.sub("", value)
        return f"tel:{number}" if len(number) >= 3 else None
    if field in _EMAILS and "@" in value:
        return f"mailto:{value.strip()}"
    if field in _PLACES:
        return "https://uri.amap.com/search?" + urlencode({"keyword": value.strip()})
    return None


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


#: How many fields a row's card shows on a phone besides its title, unless told.
CARD_FIELDS = 3


def table(
    policy: UserPolicy,
    resource: str,
    model: Any,
    rows: Iterable[Any],
    fields: Iterable[str],
    card: Iterable[str] | None = None,
) -> dict[str, Any]:
    """Columns and cell values of a list of records, ready for a generic table template.

    On a phone each row reads as a card: the first column is its title and ``card``
    names the few fields the card shows under it (by default the next three columns);
    the other columns are left off the card, not out of the record's own page."""
    columns = visible_columns(policy, resource, model, fields)
    names = [name for name, _label in columns]
    return {
        "columns": columns,
        "card": names[1 : 1 + CARD_FIELDS] if card is None else [name for name in card if name in names],
        "rows": [_row(policy, resource, row, [name for name, _label in columns]) for row in rows],
    }


def _row(policy: UserPolicy, resource: str, row: Any, names: list[str]) -> dict[str, Any]:
    cells = [display_value(policy, resource, row, name) for name in names]
    links = [contact_link(policy, resource, name, value) for name, value in zip(names, cells, strict=True)]
    return {"obj": row, "cells": cells, "linked": list(zip(cells, links, strict=True))}
