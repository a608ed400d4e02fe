"""``Authorization: Token <key>`` for integrations; the key is looked up by its digest.

A token works while it, its user and every token it was created with are active: a
token whose parent was revoked or expired is refused here even if a race left it
unrevoked."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions
from rest_framework.request import Request

from crm.core import generations

from .models import APIToken
from .selectors import api_token_for_key

# Writing last_used_at on every request would turn each read into a write; once a
# minute is precise enough to see which integrations are alive.
_TOUCH_EVERY = timedelta(minutes=1)


class APITokenAuthentication(authentication.BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request: Request) -> tuple[Any, APIToken] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Invalid token header."))
        try:
            key = header[1].decode()
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed(_("Invalid token header.")) from exc
        token = api_token_for_key(key=key)
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid, expired or revoked token."))
        if request.method in permissions.SAFE_METHODS:
            # A read takes the generations its token's look-up carried (crm.core.generations);
            # a write reads them when it first needs them, as it always did.
            generations.remember(getattr(token, "generations", None))
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > _TOUCH_EVERY:
            APIToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class APITokenScheme(OpenApiAuthenticationExtension):
    """Describes token authentication in the OpenAPI document (registered by being defined)."""

    target_class = APITokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):  # type: ignore[no-untyped-def]
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <key>`; create a key with `manage.py create_api_token USERNAME`.",
        }
