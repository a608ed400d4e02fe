"""The field policy applied to API serializers: one mixin, every governed serializer.

Reading: hidden fields are left out, masked fields are masked, the rest as is — also in
nested serializers, each by its own resource's policy.  Writing: a field the caller may
not write is refused with a 400 that names it (and never echoes its value).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from django.utils.translation import gettext as _
from rest_framework import serializers

from crm.core.serializers import BuiltOnceFieldsMixin

from .masking import kind_of, mask_value
from .policy import Level, policy_for
from .registry import resource_of_model


class FieldPolicySerializerMixin(BuiltOnceFieldsMixin):
    """Mix into a serializer whose fields are those of the API resource ``policy_resource``."""

    policy_resource: ClassVar[str]
    #: On an update, the validated values of the fields the caller may only propose.
    proposed: dict[str, Any]

    def _policy(self) -> Any:
        context = getattr(self, "context", {})
        if context.get("field_policy_bypass"):
            return None  # a value revealed in clear, after the policy allowed it
        request = context.get("request")
        user = getattr(request, "user", None)
        return policy_for(user, request) if user is not None else None

    def _levels(self) -> dict[str, Level]:
        """The caller's level of each readable field that is not plainly readable,
        read once per serializer (a list's child renders every row of the page)."""
        levels: dict[str, Level] | None = self.__dict__.get("_policy_levels")
        if levels is None:
            policy = self._policy()
            levels = {}
            if policy is not None:
                for name, *_ in self.shared_plan():
                    level = policy.level(self.policy_resource, name)
                    if level <= Level.MASKED:
                        levels[name] = level
            self._policy_levels = levels
        return levels

    def left_out(self) -> frozenset[str]:
        """Hidden fields are never read, let alone rendered."""
        return frozenset(name for name, level in self._levels().items() if level == Level.HIDDEN)

    def to_representation(self, instance: Any) -> Any:
        data = super().to_representation(instance)  # type: ignore[misc]
        masked = self.__dict__.get("_masked_kinds")
        if masked is None:
            kept = {name: field for name, _column, _writer, field in self.shared_plan()}
            masked = self._masked_kinds = [
                (name, kind_of(self.policy_resource, name, kept[name]))
                for name, level in self._levels().items()
                if level == Level.MASKED
            ]
        for name, kind in masked:
            if name in data:
                data[name] = mask_value(data[name], kind)
        return data

    def to_internal_value(self, data: Any) -> Any:
        policy = self._policy()
        if policy is not None and isinstance(data, Mapping):
            fields = self.fields  # type: ignore[attr-defined]
            writable = {name for name, field in fields.items() if not field.read_only}
            updating = getattr(self, "instance", None) is not None
            levels = {name: policy.level(self.policy_resource, name) for name in data if name in writable}
            proposing = {name for name, level in levels.items() if level == Level.PROPOSE and updating}
            refused = {
                name: [_("You may not change this field.")]
                for name, level in levels.items()
                if level < Level.WRITE and name not in proposing
            }
            if refused:
                raise serializers.ValidationError(refused)
            if proposing:
                # Propose-level fields are validated here and set aside: the view hands
                # them to the change-request service, never to the record's update.
                proposed: dict[str, Any] = {}
                errors: dict[str, Any] = {}
                for name in proposing:
                    try:
                        proposed[name] = fields[name].run_validation(data[name])
                    except serializers.ValidationError as error:
                        errors[name] = error.detail
                if errors:
                    raise serializers.ValidationError(errors)
                self.proposed = proposed
                data = {name: value for name, value in data.items() if name not in proposing}
        return super().to_internal_value(data)  # type: ignore[misc]


def readable_fields(user: Any, resource: str, names: Any, request: Any = None) -> set[str]:
    """Which of ``names`` the user may read in clear (the level needed to filter, search or sort)."""
    policy = policy_for(user, request)
    return {name for name in names if policy.level(resource, name) >= Level.READ}


#: Keys of an audit event's changes whose sides are whole records of the event's
#: resource, or several of its fields (the record a merge removed, the one an unmerge
#: brought back, the values a merge gave the record kept).
RECORD_CHANGES = frozenset({"merged", "unmerged", "kept"})


def _mask_record(policy: Any, resource: str, record: Mapping[str, Any]) -> dict[str, Any]:
    """A whole record's values as the viewer may see them (hidden fields left out)."""
    shown: dict[str, Any] = {}
    for name, value in record.items():
        # A stored row names a foreign key by its column (``owner_id``): the field's level rules.
        level = min(policy.level(resource, name), policy.level(resource, name.removesuffix("_id")))
        if level == Level.HIDDEN:
            continue
        shown[name] = mask_value(value, kind_of(resource, name)) if level == Level.MASKED else value
    return shown


def mask_changes(policy: Any, label: str, changes: Mapping[str, Any]) -> dict[str, Any]:
    """An audit event's before/after values as the viewer may see them: fields hidden to
    the viewer are left out, masked ones are masked on both sides (inside a whole record
    too, see ``RECORD_CHANGES``)."""
    shown_as = resource_of_model(label)
    if shown_as is None or policy is None:
        return dict(changes)
    resource = shown_as.name
    shown: dict[str, Any] = {}
    for name, change in changes.items():
        if name in RECORD_CHANGES and isinstance(change, Mapping):
            shown[name] = {
                side: _mask_record(policy, resource, record) if isinstance(record, Mapping) else record
                for side, record in change.items()
            }
            continue
        level = policy.level(resource, name)
        if level == Level.HIDDEN:
            continue
        if level == Level.MASKED and isinstance(change, Mapping):
            kind = kind_of(resource, name)
            change = {side: mask_value(value, kind) for side, value in change.items()}
        shown[name] = change
    return shown
