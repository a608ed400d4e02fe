"""What every API serializer shares."""

from __future__ import annotations

import copy
from typing import Any

from django.utils import translation
from rest_framework.serializers import BaseSerializer


class BuiltOnceFieldsMixin:
    """A serializer whose fields are worked out once per class, not on every request.

    A ``ModelSerializer`` reads its model's fields, their validators and choices to
    build its own fields each time it is used, which costs a small request more than its
    query.  The fields a class builds never depend on the request (no serializer here
    overrides ``get_fields``), so the first set built in each language is kept as a
    pattern and each use gets fresh copies of it, as DRF does with declared fields.
    """

    def get_fields(self) -> dict[str, Any]:
        cls = type(self)
        patterns = cls.__dict__.get("_fields_patterns")
        if patterns is None:
            patterns = {}
            cls._fields_patterns = patterns  # type: ignore[attr-defined]
        # One pattern per language: DRF writes some texts out while it builds a field
        # (the "already exists" message of a unique field), in the language of the moment.
        language = translation.get_language()
        pattern = patterns.get(language)
        if pattern is None:
            pattern = patterns[language] = super().get_fields()  # type: ignore[misc]
        return {name: _fresh(field) for name, field in pattern.items()}


def _fresh(field: Any) -> Any:
    """A copy of a pattern field, ready to be bound to a new serializer.

    A field that holds other fields (a nested serializer, a list's child, a related
    list's child) is copied deeply, so that its children are bound to the copy and read
    the new request's context.  Any other field is copied shallowly: binding only sets
    attributes on the copy, and what it shares with the pattern (validators, choices, a
    queryset, messages) is never changed after the field is made.
    """
    if isinstance(field, BaseSerializer) or hasattr(field, "child") or hasattr(field, "child_relation"):
        return copy.deepcopy(field)
    return copy.copy(field)
