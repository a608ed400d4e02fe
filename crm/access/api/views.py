"""Field-permission endpoint: admins only."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from crm.core.api import ScopedModelViewSet, etag_for

from .. import changes, services
from ..models import ChangeRequest, FieldPermission
from .serializers import (
    BulkApproveResultSerializer,
    BulkApproveSerializer,
    ChangeRequestSerializer,
    DecisionSerializer,
    FieldPermissionSerializer,
)


class FieldPermissionViewSet(ScopedModelViewSet):
    model = FieldPermission
    resource = "field-permissions"
    serializer_class = FieldPermissionSerializer
    filterset_fields = ("resource", "field", "role", "level")
    ordering_fields = ("resource", "field", "role")
    ordering = ("resource", "field", "role")
    create_service = staticmethod(services.field_permission_create)
    update_service = staticmethod(services.field_permission_update)
    delete_service = staticmethod(services.field_permission_delete)


class ChangeRequestViewSet(ScopedModelViewSet):
    """Change requests: proposals to propose-level fields, and their decisions.

    They are made by updating a record (a PATCH or PUT that names propose-level fields
    answers 202 with the request), never here.  ``approve/`` and ``reject/`` (with a
    reason) are for a manager of the record's team or an admin; ``withdraw/`` for the
    requester; ``bulk-approve/`` approves many and reports those it could not.
    """

    model = ChangeRequest
    resource = "change-requests"
    serializer_class = ChangeRequestSerializer
    select_related = ("requested_by",)
    filterset_fields = ("status", "resource", "record_id", "customer_id", "requested_by")
    ordering_fields = ("created_at", "id")
    ordering = ("created_at", "id")
    http_method_names = ["get", "post", "head", "options"]

    @extend_schema(exclude=True)  # proposals are made by updating the record
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        raise exceptions.MethodNotAllowed("POST")

    def _answer(self, change: ChangeRequest) -> Response:
        response = Response(self.get_serializer(change).data)
        response["ETag"] = etag_for(change)
        return response

    @extend_schema(request=None, responses=ChangeRequestSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        """Apply the proposed values to the record (409 when they changed since)."""
        change = self.get_object()
        return self._answer(changes.change_approve(actor=request.user, request=change))

    @extend_schema(request=DecisionSerializer, responses=ChangeRequestSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        """Reject with a reason (required), which the requester is told."""
        change = self.get_object()
        given = DecisionSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        return self._answer(
            changes.change_reject(actor=request.user, request=change, reason=given.validated_data["reason"])
        )

    @extend_schema(request=None, responses=ChangeRequestSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str | None = None) -> Response:
        """The requester takes back a pending request."""
        change = self.get_object()
        return self._answer(changes.change_withdraw(actor=request.user, request=change))

    @extend_schema(request=BulkApproveSerializer, responses={200: BulkApproveResultSerializer})
    @action(detail=False, methods=["post"], url_path="bulk-approve", url_name="bulk-approve")
    def bulk_approve(self, request: Request) -> Response:
        """Approve many at once: ``{"approved": [ids], "failed": {id: message}}``."""
        given = BulkApproveSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        approved, failed = changes.change_bulk_approve(actor=request.user, ids=given.validated_data["ids"])
        return Response({"approved": [c.pk for c in approved], "failed": {str(k): v for k, v in failed.items()}})
