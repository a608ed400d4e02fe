"""Tier and tier-history endpoints."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from crm.core.api import JobViewSet, ScopedModelViewSet

from .. import selectors, services
from ..choices import RunTrigger
from ..models import ScoringPolicy, Tier, TierChange, TierRun
from .filtersets import TierChangeFilterSet
from .serializers import (
    ScoringPolicySerializer,
    TierChangeSerializer,
    TierOverrideSerializer,
    TierRunSerializer,
    TierSerializer,
)


class TierViewSet(ScopedModelViewSet):
    """The tier ladder with its benefits; admins define it."""

    model = Tier
    resource = "tiers"
    serializer_class = TierSerializer
    ordering_fields = ("rank", "min_score", "code")
    ordering = ("rank",)
    search_fields = ("code", "name_en", "name_zh")
    create_service = staticmethod(services.tier_create)
    update_service = staticmethod(services.tier_update)
    delete_service = staticmethod(services.tier_delete)

    selector = staticmethod(selectors.tier_list)


class TierChangeViewSet(ScopedModelViewSet):
    """The history of customers' tier moves.  History is never edited through the API."""

    model = TierChange
    resource = "tier-changes"
    serializer_class = TierChangeSerializer
    filterset_class = TierChangeFilterSet
    ordering_fields = ("changed_at",)
    ordering = ("-changed_at", "-id")
    http_method_names = ["get", "post", "head", "options"]

    selector = staticmethod(selectors.tier_change_list)

    @extend_schema(exclude=True)  # POST is for the actions below; there is no create
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        raise exceptions.MethodNotAllowed("POST")

    @extend_schema(request=TierOverrideSerializer, responses={201: TierChangeSerializer})
    @action(detail=False, methods=["post"])
    def override(self, request: Request) -> Response:
        """Set a customer's tier by hand (managers), with the reason kept in the history."""
        serializer = TierOverrideSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        change = services.tier_override(actor=request.user, **serializer.validated_data)
        return Response(TierChangeSerializer(change).data, status=status.HTTP_201_CREATED)


def _policy_create(*, actor: Any, data: dict[str, Any]) -> ScoringPolicy:
    note = data.pop("note", "")
    return services.scoring_policy_save(actor=actor, data=data, note=note or "")


class ScoringPolicyViewSet(ScopedModelViewSet):
    """Versions of the scoring policy, newest first.  POST saves a new active version
    (admins); versions are never edited or deleted."""

    model = ScoringPolicy
    resource = "scoring-policies"
    serializer_class = ScoringPolicySerializer
    ordering_fields = ("version",)
    ordering = ("-version",)
    http_method_names = ["get", "post", "head", "options"]
    create_service = staticmethod(_policy_create)


@extend_schema_view(start=extend_schema(request=None, responses={202: TierRunSerializer}))
class TierRunViewSet(JobViewSet):
    """Evaluation runs with their state and summary.  ``POST start/`` queues one now
    (managers); if one is already queued or running, that one is returned."""

    model = TierRun
    resource = "tier-runs"
    serializer_class = TierRunSerializer
    select_related = ("policy",)

    @staticmethod
    def start_job(actor: Any) -> TierRun:
        return services.tier_run_start(actor=actor, trigger=RunTrigger.MANUAL)
