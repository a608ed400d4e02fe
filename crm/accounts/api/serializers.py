"""User, team and API-token serializers.  Password hashes and token keys never leave."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from crm.core.api import ScopedPrimaryKeyRelatedField

from ..models import APIToken, Team, User


class UserSerializer(serializers.ModelSerializer):
    team = ScopedPrimaryKeyRelatedField(queryset=Team.objects.all(), required=False, allow_null=True)
    team_name = serializers.CharField(source="team.name", read_only=True, default=None)
    full_name = serializers.CharField(source="get_full_name", read_only=True)
    password = serializers.CharField(write_only=True, required=False, style={"input_type": "password"})

    class Meta:
        model = User
        fields = (
            "id",
            "username",
            "first_name",
            "last_name",
            "full_name",
            "email",
            "role",
            "team",
            "team_name",
            "title",
            "phone",
            "is_active",
            "last_login",
            "date_joined",
            "password",
            "version",
            "updated_at",
        )
        read_only_fields = ("last_login", "date_joined", "version", "updated_at")
        validators: list[Any] = []
        extra_kwargs: dict[str, Any] = {"username": {"validators": []}}


class TeamSerializer(serializers.ModelSerializer):
    manager = ScopedPrimaryKeyRelatedField(queryset=User.objects.all(), required=False, allow_null=True)
    manager_name = serializers.CharField(source="manager.__str__", read_only=True, default=None)

    class Meta:
        model = Team
        fields = ("id", "name", "region", "manager", "manager_name", "version", "created_at", "updated_at")
        read_only_fields = ("version", "created_at", "updated_at")
        validators: list[Any] = []
        extra_kwargs: dict[str, Any] = {"name": {"validators": []}}


class APITokenSerializer(serializers.ModelSerializer):
    scopes = serializers.ListField(child=serializers.CharField(max_length=60), min_length=1, max_length=60)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)
    is_active = serializers.BooleanField(read_only=True)

    class Meta:
        model = APIToken
        fields: tuple[str, ...] = (
            "id",
            "user",
            "name",
            "prefix",
            "scopes",
            "created_at",
            "expires_at",
            "last_used_at",
            "revoked_at",
            "is_active",
            "parent",
        )
        read_only_fields = ("user", "prefix", "created_at", "last_used_at", "revoked_at", "parent")


class APITokenCreatedSerializer(APITokenSerializer):
    key = serializers.CharField(read_only=True, help_text="Shown once; store it now.")

    class Meta(APITokenSerializer.Meta):
        fields = (*APITokenSerializer.Meta.fields, "key")
