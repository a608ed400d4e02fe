"""Reads of users, teams and tokens, through the record scope."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from crm.access.scope import scoped_queryset

from .models import APIToken, Team, User


def user_list(*, user: Any) -> QuerySet[User]:
    return scoped_queryset(User, user).select_related("team")


def team_list(*, user: Any) -> QuerySet[Team]:
    return scoped_queryset(Team, user).select_related("manager")


def api_token_list(*, user: Any) -> QuerySet[APIToken]:
    return scoped_queryset(APIToken, user)
