"""Audit event serializer (read only)."""

from __future__ import annotations

from rest_framework import serializers

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
