"""Field-permission serializer."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from ..models import FieldPermission


class FieldPermissionSerializer(serializers.ModelSerializer):
    class Meta:
        model = FieldPermission
        fields = ("id", "resource", "field", "role", "level", "reveal_allowed", "version", "created_at", "updated_at")
        read_only_fields = ("version", "created_at", "updated_at")
        validators: list[Any] = []
