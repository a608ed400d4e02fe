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

from .masking import kind_of, mask_value
from .policy import Level, policy_for
from .registry import resource_of_model


class FieldPolicySerializerMixin:
    """Mix into a serializer whose fields are those of the API resource ``policy_resource``."""

    policy_resource: ClassVar[str]

    def _policy(self) -> Any:
        context = getattr(self, "context", {})
        if context.get("field_policy_bypass"):
            return None  # a value revealed in clear, after the policy allowed it
        request = context.get("request")
        user = getattr(request, "user", None)
        return policy_for(user, request) if user is not None else None

    def to_representation(self, instance: Any) -> Any:
        data = super().to_representation(instance)  # type: ignore[misc]
        policy = self._policy()
        if policy is None:
            return data
        fields = self.fields  # type: ignore[attr-defined]
        for name in list(data):
            level = policy.level(self.policy_resource, name)
            if level == Level.HIDDEN:
                del data[name]
            elif level == Level.MASKED:
                data[name] = mask_value(data[name], kind_of(self.policy_resource, name, fields.get(name)))
        return data

    def to_internal_value(self, data: Any) -> Any:
        policy = self._policy()
        if policy is not None and isinstance(data, Mapping):
            writable = {name for name, field in self.fields.items() if not field.read_only}  # type: ignore[attr-defined]
            refused = {
                name: [_("You may not change this field.")]
                for name in data
                if name in writable and policy.level(self.policy_resource, name) < Level.WRITE
            }
            if refused:
                raise serializers.ValidationError(refused)
        return super().to_internal_value(data)  # type: ignore[misc]


def readable_fields(user: Any, resource: str, names: Any, request: Any = None) -> set[str]:
    """Which of ``names`` the user may read in clear (the level needed to filter, search or sort)."""
    policy = policy_for(user, request)
    return {name for name in names if policy.level(resource, name) >= Level.READ}


def mask_changes(policy: Any, label: str, changes: Mapping[str, Any]) -> dict[str, Any]:
    """An audit event's before/after values as the viewer may see them: fields hidden to
    the viewer are left out, masked ones are masked on both sides."""
    shown_as = resource_of_model(label)
    if shown_as is None or policy is None:
        return dict(changes)
    resource = shown_as.name
    shown: dict[str, Any] = {}
    for name, change in changes.items():
        level = policy.level(resource, name)
        if level == Level.HIDDEN:
            continue
        if level == Level.MASKED and isinstance(change, Mapping):
            kind = kind_of(resource, name)
            change = {side: mask_value(value, kind) for side, value in change.items()}
        shown[name] = change
    return shown
