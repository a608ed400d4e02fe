"""What every API serializer shares."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.utils import translation
from rest_framework import fields as drf_fields
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject, PrimaryKeyRelatedField, RelatedField
from rest_framework.serializers import BaseSerializer

#: One rendered field: its name, the field bound to this serializer (None: the writer
#: needs no bound field), the model column read straight off the instance (None: the
#: field reads its value itself) and how the value is written out.
Step = tuple[str, Any, str | None, Callable[[Any], Any]]

#: A readable field as every use of a serializer class renders it: its name, the model
#: column it shows as it is, the writer every use may share (None: each use binds its
#: own field) and the field bound once for the class (its type tells a masked value's kind).
Shared = tuple[str, str | None, Callable[[Any], Any] | None, Any]


class BuiltOnceFieldsMixin:
    """A serializer whose fields are worked out once per class, not on every request.

    A ``ModelSerializer`` reads its model's fields, their validators and choices to
    build its own fields each time it is used, which costs a small request more than its
    query.  The fields a class builds never depend on the request (no serializer here
    overrides ``get_fields``), so the first set built in each language is kept as a
    pattern and each use gets fresh copies of it, as DRF does with declared fields.

    Rendering a record needs fewer still (see :meth:`representation_plan`): a column
    written out by one of DRF's own scalar fields is written by a field kept for the
    class, and only the other fields are copied and bound to the serializer.
    """

    def _pattern(self) -> dict[str, Any]:
        # One pattern per language: DRF writes some texts out while it builds a field
        # (the "already exists" message of a unique field), in the language of the moment.
        return _kept_per_language(type(self), "_fields_patterns", super().get_fields)  # type: ignore[misc]

    def get_fields(self) -> dict[str, Any]:
        return {name: _fresh(field) for name, field in self._pattern().items()}

    def shared_plan(self) -> list[Shared]:
        """The readable fields of this class, as :data:`Shared`, worked out once per
        class and language from a use bound to no record and no request."""
        cls = type(self)

        def build() -> list[Shared]:
            model = getattr(getattr(cls, "Meta", None), "model", None)
            template = cls(context={})  # type: ignore[call-arg]
            shared = []
            for field in template._readable_fields:  # type: ignore[attr-defined]
                column = _column(model, field)
                writer = _shared_writer(field) if column is not None else None
                shared.append((field.field_name, column, writer, field))
            return shared

        return _kept_per_language(cls, "_shared_plans", build)

    def bound_field(self, name: str) -> Any:
        """The field ``name`` bound to this serializer, bound alone when the serializer's
        whole set of fields was not needed yet."""
        if "fields" in self.__dict__:  # DRF's fields, once built, are kept on the instance
            return self.fields[name]  # type: ignore[attr-defined]
        alone: dict[str, Any] = self.__dict__.setdefault("_fields_alone", {})
        field = alone.get(name)
        if field is None:
            field = alone[name] = _fresh(self._pattern()[name])
            field.bind(field_name=name, parent=self)
        return field

    def left_out(self) -> frozenset[str]:
        """The readable fields this serializer does not render at all (the field
        policy's hidden ones); none here."""
        return frozenset()

    def representation_plan(self) -> list[Step]:
        """How this serializer renders a record, worked out on its first record and kept
        for the others (a list's child renders every row of the page).

        A field that shows one of the model's own columns reads it straight off the
        record: DRF's general path (sources that may be dotted, callables, mappings,
        defaults) costs more than the column's value.  Every other field reads its value
        as DRF does.  A text or whole number is written out as ``str``/``int``, which is
        what those fields do; every other field writes its own value.  A column that one
        of DRF's scalar fields writes needs nothing of this serializer (no record, no
        request), so the field kept for the class writes it.
        """
        plan: list[Step] | None = self.__dict__.get("_representation_plan")
        if plan is None:
            leave_out = self.left_out()
            plan = []
            for name, column, writer, _template in self.shared_plan():
                if name in leave_out:
                    continue
                if writer is not None:
                    plan.append((name, None, column, writer))
                else:
                    field = self.bound_field(name)
                    plan.append((name, field, column, _writer(field)))
            self._representation_plan = plan
        return plan

    def to_representation(self, instance: Any) -> Any:
        """DRF's ``Serializer.to_representation``, following :meth:`representation_plan`."""
        meta = getattr(self, "Meta", None)
        model = getattr(meta, "model", None)
        columns = model is not None and isinstance(instance, model)
        data: dict[str, Any] = {}
        for name, field, column, write in self.representation_plan():
            if columns and column is not None:
                value = getattr(instance, column)
                data[name] = None if value is None else write(value)
                continue
            try:
                value = (field or self.bound_field(name)).get_attribute(instance)
            except SkipField:
                continue
            empty = value.pk is None if isinstance(value, PKOnlyObject) else value is None
            data[name] = None if empty else write(value)
        return data


def _kept_per_language(cls: type, attribute: str, build: Callable[[], Any]) -> Any:
    """What ``build`` gives, kept on the class itself (not its subclasses) per language."""
    kept = cls.__dict__.get(attribute)
    if kept is None:
        kept = {}
        setattr(cls, attribute, kept)
    language = translation.get_language()
    value = kept.get(language)
    if value is None:
        value = kept[language] = build()
    return value


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


def _column(model: Any, field: Any) -> str | None:
    """The model column a serializer field shows as it is, if it is one: one of the
    model's own columns, or the key a plain reference to another record shows."""
    if model is None or isinstance(field, BaseSerializer):
        return None
    if isinstance(field, RelatedField):
        return _key_column(model, field)
    if type(field).get_attribute is not drf_fields.Field.get_attribute:
        return None  # the field reads its value its own way (a method, the whole record)
    if field.source == "*" or len(field.source_attrs) != 1:
        return None
    try:
        model_field = model._meta.get_field(field.source)
    except FieldDoesNotExist:
        return None
    if not model_field.concrete or model_field.is_relation or model_field.attname != field.source:
        return None
    return field.source  # type: ignore[no-any-return]


def _key_column(model: Any, field: Any) -> str | None:
    """The column holding the key that a reference field shows (``owner_id`` for
    ``owner``), if the field is DRF's own primary-key reference to another record's
    primary key: it shows the key as it is, which the record holds without looking up
    the other record (what DRF's "pk only" reading does, at the cost of a bound field)."""
    kind = type(field)
    if not (
        isinstance(field, PrimaryKeyRelatedField)
        and field.pk_field is None
        and kind.to_representation is PrimaryKeyRelatedField.to_representation
        and kind.get_attribute is RelatedField.get_attribute
        and kind.use_pk_only_optimization is PrimaryKeyRelatedField.use_pk_only_optimization
        and field.source != "*"
        and len(field.source_attrs) == 1
    ):
        return None
    try:
        model_field = model._meta.get_field(field.source)
    except FieldDoesNotExist:
        return None
    if not (model_field.concrete and model_field.many_to_one):
        return None
    if model_field.target_field != model_field.related_model._meta.pk:
        return None  # a reference by another unique column shows the other record's key
    return model_field.attname  # type: ignore[no-any-return]


def _shared_writer(field: Any) -> Callable[[Any], Any] | None:
    """How a field that shows a column writes its value, when every use may share it."""
    if type(field) in _SCALARS:
        return _writer(field)
    if isinstance(field, RelatedField):
        return _as_is  # the key, as DRF's primary-key reference writes it
    return None


def _as_is(value: Any) -> Any:
    return value


#: DRF's own scalar fields: writing a value out needs nothing but the value and the
#: field's own options (format, places, choices), never its serializer or the request.
_SCALARS = frozenset(
    {
        drf_fields.BooleanField,
        drf_fields.CharField,
        drf_fields.ChoiceField,
        drf_fields.DateField,
        drf_fields.DateTimeField,
        drf_fields.DecimalField,
        drf_fields.DurationField,
        drf_fields.EmailField,
        drf_fields.FloatField,
        drf_fields.IntegerField,
        drf_fields.IPAddressField,
        drf_fields.JSONField,
        drf_fields.SlugField,
        drf_fields.TimeField,
        drf_fields.URLField,
        drf_fields.UUIDField,
    }
)

#: DRF fields whose ``to_representation`` is ``str(value)`` or ``int(value)``: when a
#: field still has that method, the builtin is called straight away.
_PLAIN_WRITERS: tuple[tuple[Any, Callable[[Any], Any]], ...] = (
    (drf_fields.CharField, str),
    (drf_fields.IntegerField, int),
)


def _writer(field: Any) -> Callable[[Any], Any]:
    for base, builtin in _PLAIN_WRITERS:
        if type(field).to_representation is base.to_representation:
            return builtin
    return field.to_representation  # type: ignore[no-any-return]
