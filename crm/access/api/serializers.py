"""Field-permission serializer."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from ..models import ChangeRequest, FieldPermission


class FieldPermissionSerializer(serializers.ModelSerializer):
    class Meta:
        model = FieldPermission
        fields = ("id", "resource", "field", "role", "level", "reveal_allowed", "version", "created_at", "updated_at")
        read_only_fields = ("version", "created_at", "updated_at")
        validators: list[Any] = []


class ChangeRequestSerializer(serializers.ModelSerializer):
    """A change request as the API shows it: read-only (decisions are actions)."""

    requested_by_name = serializers.CharField(source="requested_by.get_full_name", read_only=True, default="")

    class Meta:
        model = ChangeRequest
        fields = (
            "id", "resource", "record_id", "record_repr", "customer_id", "changes", "previous", "record_version",
            "requested_by", "requested_by_name", "status", "decided_by", "decided_at", "reason",
            "version", "created_at", "updated_at",
        )  # fmt: skip
        read_only_fields = fields


class DecisionSerializer(serializers.Serializer):
    """The reason given with a rejection (required there)."""

    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class BulkApproveSerializer(serializers.Serializer):
    """The ids of the change requests to approve at once."""

    ids = serializers.ListField(child=serializers.IntegerField(min_value=1), min_length=1, max_length=500)


class BulkApproveResultSerializer(serializers.Serializer):
    """What a bulk approval did: the ids approved, and why each of the others was not."""

    approved = serializers.ListField(child=serializers.IntegerField())
    failed = serializers.DictField(child=serializers.CharField(), help_text="Request id → why it was not approved.")
