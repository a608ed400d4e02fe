"""What every API serializer shares."""

from __future__ import annotations

import copy
from typing import Any


class BuiltOnceFieldsMixin:
    """A serializer whose fields are worked out once per class, not on every request.

    A ``ModelSerializer`` reads its model's fields, their validators and choices to
    build its own fields each time it is used, which costs a small request more than its
    query.  The fields a class builds never depend on the request (no serializer here
    overrides ``get_fields``), so the first set built is kept as a pattern and each use
    gets fresh copies of it, as DRF does with declared fields.
    """

    def get_fields(self) -> dict[str, Any]:
        cls = type(self)
        pattern = cls.__dict__.get("_fields_pattern")
        if pattern is None:
            pattern = super().get_fields()  # type: ignore[misc]
            cls._fields_pattern = pattern  # type: ignore[attr-defined]
        return {name: copy.deepcopy(field) for name, field in pattern.items()}
