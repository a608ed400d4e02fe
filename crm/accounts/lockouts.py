"""Who is locked out of signing in, and unlocking them.

django-axes locks a user name from one address after too many failed sign-ins; its
counts live in the shared cache under keys made from the pair, so they cannot be found
again from the user name alone.  Each lockout is therefore remembered here, with the
address it came from, for as long as it lasts (:func:`remember_lockout`, told by axes's
``user_locked_out`` signal): the console shows who is locked out, and an admin can
unlock them (``services.user_unlock``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.core.cache import cache


def _key(username: str) -> str:
    return f"crm:lockout:{username}"


def _lasts() -> int:
    """How long a lockout lasts, in seconds (``AXES_COOLOFF_TIME``)."""
    return int(settings.AXES_COOLOFF_TIME.total_seconds())


def remember_lockout(sender: Any, request: Any = None, username: str = "", ip_address: str = "", **kwargs: Any) -> None:
    """Remember that ``username`` is locked out from ``ip_address`` (axes's signal)."""
    if not username:
        return
    addresses = set(cache.get(_key(username)) or ())
    addresses.add(ip_address or "")
    cache.set(_key(username), sorted(addresses), timeout=_lasts())


def locked_out(usernames: Iterable[str]) -> set[str]:
    """Which of ``usernames`` are locked out now (one round trip to the cache)."""
    names = list(usernames)
    found = cache.get_many([_key(name) for name in names])
    return {name for name in names if found.get(_key(name))}


def unlock(username: str) -> int:
    """Clear the failed sign-ins that lock ``username`` out, from every address it was
    locked out from; returns how many addresses that was."""
    addresses = list(cache.get(_key(username)) or ())
    for address in addresses:
        AxesProxyHandler.reset_attempts(username=username, ip_address=address or None)
    cache.delete(_key(username))
    return len(addresses)
