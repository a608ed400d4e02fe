"""API rate limits, counted in Redis so that they hold across workers, exactly.

A limit of N requests per period lets through at most N in any window of that length
(a sliding window, as DRF's own throttles count), however many workers and threads
serve the requests at once.  DRF's throttles read the history of a client from the
cache, decide, and write it back: two requests read the same history and both pass
(1,258 requests went through a 1,200/minute limit under load).  Here the whole decision
is one Lua script that Redis runs atomically: drop the requests older than the window,
count the rest, and add this one only if the count is below the limit.  A refused
request is not counted, and the answer's ``Retry-After`` says when the oldest counted
request leaves the window.

Rates come from ``settings.CRM_THROTTLE_RATES`` and are read on every request, so a
deployment (or a test) can change them without re-importing DRF's settings.
"""

from __future__ import annotations

import functools
import math
import secrets
from typing import Any

import redis
from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle

#: KEYS[1]: the client's sorted set of request times (ms); ARGV: limit, window (ms), a
#: unique name for this request.  Answers {1, 0} when let through, else {0, ms to wait}.
_SLIDING_WINDOW = """
local key, limit, window, member = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
if redis.call('ZCARD', key) < limit then
  redis.call('ZADD', key, now, member)
  redis.call('PEXPIRE', key, window)
  return {1, 0}
end
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
local wait = window
if oldest[2] then wait = tonumber(oldest[2]) + window - now end
return {0, wait}
"""


@functools.cache
def _script() -> Any:
    """The script, bound to a connection pool on the cache's Redis server (one per process)."""
    client = redis.Redis.from_url(str(settings.CACHES["default"]["LOCATION"]))
    return client.register_script(_SLIDING_WINDOW)


class _AtomicRate(SimpleRateThrottle):
    """A DRF throttle whose count is kept by one atomic Redis script."""

    scope: str
    num_requests: int
    duration: int
    #: Seconds until the client may send again, once a request was refused.
    wait_seconds = 0

    def get_rate(self) -> str | None:
        return settings.CRM_THROTTLE_RATES.get(self.scope)  # type: ignore[no-any-return]

    def allow_request(self, request: Any, view: Any) -> bool:
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        allowed, wait_ms = _script()(
            keys=[cache.make_key(key)],  # the cache's prefix keeps installations (and test runs) apart
            args=[self.num_requests, self.duration * 1000, secrets.token_hex(8)],
        )
        self.wait_seconds = max(1, math.ceil(int(wait_ms) / 1000)) if not allowed else 0
        return bool(allowed)

    def wait(self) -> float | None:
        """Seconds until a request would be let through again (the ``Retry-After``)."""
        return float(self.wait_seconds)


class AnonThrottle(_AtomicRate, AnonRateThrottle):
    """Requests without credentials, per client address."""

    scope = "anon"


class UserThrottle(_AtomicRate, UserRateThrottle):
    """Requests of one signed-in user or API token's user."""

    scope = "user"


class RevealThrottle(_AtomicRate):
    """Reveals of masked values, per user: unmasking many values quickly is harvesting."""

    scope = "reveal"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        if getattr(view, "action", None) != "reveal" or not request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}
