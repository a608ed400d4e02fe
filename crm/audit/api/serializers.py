"""Audit event serializer (read only)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from crm.access.policy import policy_for
from crm.access.serializers import mask_changes

from ..models import AuditEvent


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = (
            "id",
            "seq",
            "occurred_at",
            "actor",
            "actor_label",
            "source",
            "request_id",
            "ip",
            "action",
            "resource",
            "object_id",
            "object_repr",
            "customer",
            "changes",
            "prev_hash",
            "hash",
        )
        read_only_fields = fields

    def to_representation(self, instance: AuditEvent) -> Any:
        """Before/after values are shown at the viewer's level of each field."""
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is not None:
            data["changes"] = mask_changes(policy_for(request.user, request), instance.resource, instance.changes)
        return data
