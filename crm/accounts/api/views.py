"""User, team and API-token endpoints."""

from __future__ import annotations

from typing import Any, cast

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from crm.access.permissions import ADMINS, STAFF_ROLES
from crm.core.api import ScopedModelViewSet

from .. import selectors, services
from ..models import APIToken, Team, User
from .serializers import APITokenCreatedSerializer, APITokenSerializer, TeamSerializer, UserSerializer


class UserViewSet(ScopedModelViewSet):
    """Everyone may look colleagues up; admins manage users.  Deleting deactivates."""

    model = User
    resource = "users"
    serializer_class = UserSerializer
    filterset_fields = ("role", "team", "is_active")
    search_fields = ("username", "first_name", "last_name", "email")
    ordering_fields = ("username", "date_joined", "last_login")
    ordering = ("username",)
    write_roles = ADMINS
    delete_roles = ADMINS
    create_service = staticmethod(services.user_create)
    update_service = staticmethod(services.user_update)
    delete_service = staticmethod(services.user_delete)

    selector = staticmethod(selectors.user_list)

    @extend_schema(responses=UserSerializer)
    @action(detail=False, methods=["get"])
    def me(self, request: Request) -> Response:
        """The signed-in user."""
        return Response(UserSerializer(request.user, context=self.get_serializer_context()).data)


class TeamViewSet(ScopedModelViewSet):
    model = Team
    resource = "teams"
    serializer_class = TeamSerializer
    search_fields = ("name", "region")
    ordering_fields = ("name",)
    ordering = ("name",)
    write_roles = ADMINS
    delete_roles = ADMINS
    create_service = staticmethod(services.team_create)
    update_service = staticmethod(services.team_update)
    delete_service = staticmethod(services.team_delete)

    selector = staticmethod(selectors.team_list)


class APITokenViewSet(ScopedModelViewSet):
    """A user's own API tokens (an admin sees all).  The key is shown once, on creation;
    deleting a token revokes it (it stays listed, inactive)."""

    model = APIToken
    resource = "api-tokens"
    serializer_class = APITokenSerializer
    ordering = ("-created_at",)
    write_roles = STAFF_ROLES
    http_method_names = ["get", "post", "delete", "head", "options"]

    selector = staticmethod(selectors.api_token_list)

    @extend_schema(responses={201: APITokenCreatedSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token, key = services.api_token_create(
            actor=request.user, user=cast(User, request.user), **serializer.validated_data
        )
        token.key = key  # type: ignore[attr-defined]
        return Response(APITokenCreatedSerializer(token).data, status=status.HTTP_201_CREATED)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.api_token_revoke(actor=request.user, token=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
