"""Reads of users, teams and tokens, through the record scope."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import JSONField, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from crm.access.scope import scoped_queryset
from crm.core import generations
from crm.core.statements import Prepared

from .models import APIToken, Team, User

#: Up to this many people a picker lists as a select; beyond, a user name is typed, with
#: this many suggestions (a company of thousands of reps is not one select).
PICKER_LIMIT = 200


@dataclass(frozen=True)
class Picker:
    """People to choose one of: all of them in a select when they are few
    (``PICKER_LIMIT``), else the first of them as suggestions for a typed user name."""

    people: list[User]
    typed: bool


def people_picker(people: QuerySet[User]) -> Picker:
    """``people`` (ordered) as a picker: one query, never more than the limit read."""
    first = list(people[: PICKER_LIMIT + 1])
    return Picker(first[:PICKER_LIMIT], len(first) > PICKER_LIMIT)


def user_list(*, user: Any) -> QuerySet[User]:
    return scoped_queryset(User, user).select_related("team")


def team_list(*, user: Any) -> QuerySet[Team]:
    return scoped_queryset(Team, user).select_related("manager")


def api_token_list(*, user: Any, token: APIToken | None = None) -> QuerySet[APIToken]:
    """A person sees their own tokens (an admin everyone's); a caller signed in with a
    ``token`` sees only the tokens of that token's user, whatever the user's role."""
    tokens = scoped_queryset(APIToken, user)
    return tokens.filter(user_id=token.user_id) if token is not None else tokens


def api_token_ancestors_active(*, token: APIToken) -> bool:
    """Whether every token that ``token`` was created with, at any depth, still works
    (none is revoked, expired or gone)."""
    if not token.ancestors:
        return True
    working = APIToken.objects.filter(pk__in=token.ancestors, revoked_at__isnull=True).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())
    )
    return working.count() == len(set(token.ancestors))


#: The look-up that opens every API request, compiled once (``crm.core.statements``): the
#: token by its key's digest, with its user and their team, and the generations of what
#: the processes keep (``crm.core.generations``), which a read keeps for the rest of it.
_TOKEN_BY_DIGEST = Prepared(
    lambda digest: (
        APIToken.objects.select_related("user", "user__team")
        .annotate(generations=RawSQL(generations.ALL_TOKENS, (), output_field=JSONField()))  # noqa: S611 - a constant
        .filter(key_hash=digest)
        .order_by("pk")[:1]
    ),
    str,
)


def api_token_for_key(*, key: str) -> APIToken | None:
    """The token with this key, with its user, if it may be used now: it and every token
    it was created with are neither revoked nor expired, and its user is active."""
    found = _TOKEN_BY_DIGEST(APIToken.digest(key))
    token = found[0] if found else None
    if token is None or not token.is_active or not token.user.is_active:
        return None
    return token if api_token_ancestors_active(token=token) else None
