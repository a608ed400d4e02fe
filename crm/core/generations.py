"""Generations: whether what a process kept from an earlier request is still current.

Some small tables are read by nearly every request (the field policy; the tier schedule
that every customer's representation shows).  Each process keeps what it read, and asks
the database once per request whether the rows have changed since: a trigger on those
tables replaces a random token in ``core_generation`` (``crm.core.models.Generation``) in
the same transaction as the change, any change, whoever makes it.  A process keeps its
copy under the token it was read with; a request reads every token in one query, on
first need, and keeps them until it ends.  Outside a request (a worker's task, a
command), every question reads the tokens anew.  :func:`kept` is what a process keeps.

A token that is missing (a table emptied by a test's flush) answers ``None``: the caller
reads the rows themselves, as it would without a generation.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.signals import request_finished, request_started
from django.db import connection

FIELD_POLICY = "field_policy"
TIER_SCHEDULE = "tier_schedule"

#: Every token, as one JSON object (``NULL`` when there is none): a column another
#: statement may carry (the API token's look-up).
ALL_TOKENS = "SELECT jsonb_object_agg(name, token) FROM core_generation"

T = TypeVar("T")

_state = threading.local()
#: A request's tokens before they are read (``_state.tokens`` is None outside a request).
_UNREAD: dict[str, str] = {}
#: What this process keeps: per name, the token it was read under and the value.
_KEPT: dict[str, tuple[str, Any]] = {}


def _read() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, token::text FROM core_generation")
        return dict(cursor.fetchall())


def current(name: str) -> str | None:
    """The token of ``name`` as this request sees it (one query per request for all of
    them); ``None`` when there is none."""
    tokens: dict[str, str] | None = getattr(_state, "tokens", None)
    if tokens is None:
        return _read().get(name)
    if tokens is _UNREAD:
        tokens = _state.tokens = _read()
    return tokens.get(name)


def remember(tokens: dict[str, str] | None) -> None:
    """Keep ``tokens`` for the rest of this request, read by a statement the request ran
    anyway (the API token's look-up)."""
    if getattr(_state, "tokens", None) is not None:
        _state.tokens = dict(tokens or {})


def kept(name: str, read: Callable[[str | None], T]) -> T:
    """What ``read(token)`` gives, read once by this process for each generation of
    ``name`` and kept while it holds; with no generation, ``read(None)`` every time."""
    token = current(name)
    if token is None:
        return read(None)
    entry = _KEPT.get(name)
    if entry is not None and entry[0] == token:
        return entry[1]  # type: ignore[no-any-return]
    value = read(token)
    _KEPT[name] = (token, value)
    return value


def _begin(**_kwargs: Any) -> None:
    _state.tokens = _UNREAD


def _end(**_kwargs: Any) -> None:
    _state.tokens = None


def install() -> None:
    """Scope the tokens to each request (``CoreConfig.ready``)."""
    request_started.connect(_begin, dispatch_uid="crm.core.generations.begin")
    request_finished.connect(_end, dispatch_uid="crm.core.generations.end")
