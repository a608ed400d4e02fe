"""Content people write, kept in both languages of the CRM.

What an admin writes for others to read (a risk rule's name and playbook, a tier's name
and benefits) is stored once per language, in columns named ``<field>_zh`` and
``<field>_en``.  A reader sees the value in their language (the active one: the page's,
the export's, the e-mail's), and the other language's when theirs is empty, so a text
written in one language only is still shown to everyone.  The console edits both side by
side; the API carries both for editing and the resolved one for display.

One helper each for models (:func:`localized`, :func:`localized_property`), querysets
(:func:`localized_expression`), templates (the ``localized`` filter of ``crm_ui``) and
serializers (:class:`LocalizedField`).
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.db.models import F, Value
from django.db.models.functions import Coalesce, NullIf
from django.utils.translation import get_language
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

#: The languages content is kept in, by the suffix of their columns.
LANGUAGES = ("zh", "en")

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def language_key(language: str | None = None) -> str:
    """The column suffix of ``language`` (the active language by default): ``zh`` for any
    Chinese, ``en`` for anything else."""
    language = language or get_language() or settings.LANGUAGE_CODE
    return "zh" if language.lower().startswith("zh") else "en"


def columns(field: str, language: str | None = None) -> tuple[str, str]:
    """The columns of ``field``: the reader's language first, then the fallback."""
    first = language_key(language)
    return tuple(f"{field}_{key}" for key in sorted(LANGUAGES, key=lambda key: key != first))  # type: ignore[return-value]


def localized(obj: Any, field: str, language: str | None = None) -> Any:
    """``obj``'s ``field`` in the reader's language, or in the other one when that is
    empty (an empty string, an empty list or None)."""
    first, other = columns(field, language)
    value = getattr(obj, first, None)
    return value if _filled(value) else getattr(obj, other, None)


def _filled(value: Any) -> bool:
    if isinstance(value, str):
        return bool(value.strip())
    return bool(value)


def localized_property(field: str, doc: str = "") -> property:
    """A model property ``field`` for the columns ``field_zh``/``field_en``: reading gives
    the reader's language with the fallback; writing sets the active language's column
    (so ``Model(name=...)`` and older callers that wrote one value keep working)."""

    def get(self: Any) -> Any:
        return localized(self, field)

    def put(self: Any, value: Any) -> None:
        setattr(self, columns(field)[0], value)

    return property(get, put, doc=doc or f"The {field} in the reader's language, else in the other.")


def localized_expression(field: str, language: str | None = None, *, through: str = "") -> Coalesce:
    """The SQL counterpart of :func:`localized` for ordering and reading many rows
    (``order_by(localized_expression("name"))``); ``through`` reaches the field over a
    relation (``localized_expression("name", through="rule__")``)."""
    first, other = columns(field, language)
    return Coalesce(NullIf(F(through + first), Value("")), F(through + other))


def split_bilingual(text: str) -> tuple[str, str]:
    """Split text written in both languages at once into ``(zh, en)``.

    ``"回款逾期 / Overdue payment"`` splits at the slash; a text of several lines keeps its
    lines with Chinese characters for ``zh`` and the others for ``en``; a text in one
    language goes to that language only."""
    text = (text or "").strip()
    if not text:
        return "", ""
    if not _CJK.search(text):
        return "", text
    left, sep, right = text.partition(" / ")
    if sep and _CJK.search(left) and not _CJK.search(right):
        return left.strip(), right.strip()
    lines = [line for line in text.splitlines() if line.strip()]
    chinese = [line for line in lines if _CJK.search(line)]
    other = [line for line in lines if not _CJK.search(line)]
    if chinese and other:
        return "\n".join(chinese).strip(), "\n".join(other).strip()
    return text, ""


@extend_schema_field(OpenApiTypes.STR)
class LocalizedField(serializers.Field):
    """A serializer field for content kept per language: it reads as the value in the
    reader's language (with the fallback) and, written, sets the column of the request's
    language; ``<field>_zh`` and ``<field>_en`` are the fields to edit both.  ``child``
    validates a written value (a text by default)."""

    def __init__(self, field: str, child: serializers.Field | None = None, **kwargs: Any) -> None:
        kwargs["source"] = "*"
        kwargs.setdefault("required", False)
        self.localized_field = field
        self.child = child or serializers.CharField(allow_blank=True)
        super().__init__(**kwargs)

    def bind(self, field_name: str, parent: Any) -> None:
        super().bind(field_name, parent)
        self.child.bind(field_name="", parent=self)  # type: ignore[arg-type]

    def to_representation(self, instance: Any) -> Any:
        return localized(instance, self.localized_field)

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        return {columns(self.localized_field)[0]: self.child.run_validation(data)}


@extend_schema_field({"type": "array", "items": {"type": "string"}})
class LocalizedListField(LocalizedField):
    """:class:`LocalizedField` of a list of texts (a tier's benefits)."""
