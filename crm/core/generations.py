"""Generations: whether what a process kept from an earlier request is still current.

Some small tables are read by nearly every request (the field policy; the tier schedule
that every customer's representation shows).  Each process keeps what it read, and asks
the database once per request whether the rows have changed since: a trigger on those
tables replaces a random token in ``core_generation`` (``crm.core.models.Generation``) in
the same transaction as the change, any change, whoever makes it.  A process keeps its
copy under the token it was read with; a request reads every token in one query, on
first need, and keeps them until it ends.  Outside a request (a worker's task, a
command), every question reads the tokens anew.

A token that is missing (a table emptied by a test's flush) answers ``None``: the caller
reads the rows themselves, as it would without a generation.
"""

from __future__ import annotations

import threading
from typing import Any

from django.core.signals import request_finished, request_started
from django.db import connection

FIELD_POLICY = "field_policy"
TIER_SCHEDULE = "tier_schedule"

#: Every token, as one JSON object (``NULL`` when there is none): a column another
#: statement may carry (the API token's look-up).
ALL_TOKENS = "SELECT jsonb_object_agg(name, token) FROM core_generation"

_state = threading.local()
#: Set on a request's tokens once they were read (a request may find none at all).
_READ = "\x00read"


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
    if _READ not in tokens:
        tokens.update(_read())
        tokens[_READ] = ""
    return tokens.get(name)


def remember(tokens: dict[str, str] | None) -> None:
    """Keep ``tokens`` for the rest of this request, read by a statement the request ran
    anyway (the API token's look-up)."""
    if getattr(_state, "tokens", None) is not None:
        _state.tokens = {**(tokens or {}), _READ: ""}


def _begin(**_kwargs: Any) -> None:
    _state.tokens = {}


def _end(**_kwargs: Any) -> None:
    _state.tokens = None


def install() -> None:
    """Scope the tokens to each request (``CoreConfig.ready``)."""
    request_started.connect(_begin, dispatch_uid="crm.core.generations.begin")
    request_finished.connect(_end, dispatch_uid="crm.core.generations.end")
