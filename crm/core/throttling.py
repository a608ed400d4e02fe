"""API rate limits, counted in the shared cache (Redis) so they hold across workers.

Rates come from ``settings.CRM_THROTTLE_RATES`` and are read on every request, so a
deployment (or a test) can change them without re-importing DRF's settings.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle


class _SettingsRate:
    scope: str

    def get_rate(self) -> str | None:
        return settings.CRM_THROTTLE_RATES.get(self.scope)  # type: ignore[no-any-return]


class AnonThrottle(_SettingsRate, AnonRateThrottle):
    """Requests without credentials, per client address."""

    scope = "anon"


class UserThrottle(_SettingsRate, UserRateThrottle):
    """Requests of one signed-in user or API token's user."""

    scope = "user"


class RevealThrottle(_SettingsRate, SimpleRateThrottle):
    """Reveals of masked values, per user: unmasking many values quickly is harvesting."""

    scope = "reveal"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        if getattr(view, "action", None) != "reveal" or not request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}
