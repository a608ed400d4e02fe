"""Revealing one masked value, with a reason, when the policy allows it; always audited."""

from __future__ import annotations

from typing import Any, cast

from django.db import transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from crm.audit.choices import Action
from crm.audit.services import audit_act

from .policy import Level, policy_for


class RevealRequestSerializer(serializers.Serializer):
    field = serializers.CharField(max_length=80)
    reason = serializers.CharField(min_length=4, max_length=500)


class RevealResponseSerializer(serializers.Serializer):
    field = serializers.CharField()
    value = serializers.JSONField(allow_null=True)


class RevealMixin:
    """Adds ``POST …/{id}/reveal/`` to a viewset whose serializer follows the field policy."""

    @extend_schema(request=RevealRequestSerializer, responses=RevealResponseSerializer)
    @action(detail=True, methods=["post"])
    def reveal(self, request: Request, pk: str | None = None) -> Response:
        """See one masked value in clear, giving a reason.  Allowed only where the policy
        lets this role reveal the field; every attempt, allowed or not, is audited."""
        viewset = cast(Any, self)  # mixed into a ScopedModelViewSet
        instance = viewset.get_object()
        payload = RevealRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        name, reason = payload.validated_data["field"], payload.validated_data["reason"].strip()
        resource = viewset.resource
        serializer = viewset.get_serializer(
            instance, context={**viewset.get_serializer_context(), "field_policy_bypass": True}
        )
        if name not in serializer.fields:
            raise exceptions.ValidationError({"field": [_("No such field.")]})
        policy = policy_for(request.user, request)
        level = policy.level(resource, name)
        allowed = level >= Level.MASKED and policy.can_reveal(resource, name)
        with transaction.atomic():
            audit_act(
                action=Action.REVEAL,
                instance=instance,
                actor=request.user,
                details={"field": name, "reason": reason, "allowed": allowed, "level": level.name.lower()},
            )
        if not allowed:
            raise exceptions.PermissionDenied(_("Your role may not reveal this field."))
        return Response({"field": name, "value": serializer.data.get(name)})
