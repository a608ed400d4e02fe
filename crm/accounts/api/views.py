"""User, team and API-token endpoints."""

from __future__ import annotations

from typing import Any, cast

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

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
    create_service = staticmethod(services.team_create)
    update_service = staticmethod(services.team_update)
    delete_service = staticmethod(services.team_delete)

    selector = staticmethod(selectors.team_list)


class APITokenViewSet(ScopedModelViewSet):
    """A user's own API tokens (an admin sees all, when signed in as a person).  The key is
    shown once, on creation; deleting a token revokes it and every token created with it
    (they stay listed, inactive).  A token is never edited: no PUT or PATCH.

    A caller signed in with a token sees and revokes only its own user's tokens, and creates
    tokens only within its own scopes and expiry; a missing ``expires_at`` then means the
    calling token's own expiry (``null`` means never, which only a token that never
    expires may give)."""

    model = APIToken
    resource = "api-tokens"
    serializer_class = APITokenSerializer
    ordering = ("-created_at",)
    http_method_names = ["get", "post", "delete", "head", "options"]

    def _calling_token(self) -> APIToken | None:
        auth = getattr(self.request, "auth", None)
        return auth if isinstance(auth, APIToken) else None

    def get_queryset(self) -> QuerySet[APIToken]:
        return selectors.api_token_list(user=self.request.user, token=self._calling_token())

    @extend_schema(responses={201: APITokenCreatedSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        parent = self._calling_token()
        token, key = services.api_token_create(
            actor=request.user,
            user=cast(User, request.user),
            name=data["name"],
            scopes=data["scopes"],
            expires_at=data.get("expires_at", parent.expires_at if parent is not None else None),
            parent=parent,
        )
        token.key = key  # type: ignore[attr-defined]
        return Response(APITokenCreatedSerializer(token).data, status=status.HTTP_201_CREATED)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Revoke.  A token has no version: revoking is final and revoking twice is the
        same as once, so no If-Match is asked for."""
        services.api_token_revoke(actor=request.user, token=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
