"""The cast every test can use: two teams, their manager, reps, an admin and an integration.

``rep1`` and ``rep2`` are teammates in the manager's team; ``outsider`` is a rep of
another team.  ``api(user)`` returns an API client signed in as that user.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from rest_framework.test import APIClient

from crm.accounts.choices import Role
from tests.factories import TeamFactory, UserFactory, restore_shipped_rules, restore_shipped_tiers


@pytest.fixture
def watch_compiling(monkeypatch: Any) -> Callable[[], list[Any]]:
    """``watch_compiling()`` returns a list to which, from then on, the model of every
    statement Django compiles is added: for telling that a prepared statement is not
    compiled again."""

    def watch() -> list[Any]:
        from django.db.models.sql.compiler import SQLCompiler

        compiled: list[Any] = []
        original = SQLCompiler.as_sql

        def counting(self: Any, *args: Any, **kwargs: Any) -> Any:
            compiled.append(self.query.model)
            return original(self, *args, **kwargs)

        monkeypatch.setattr(SQLCompiler, "as_sql", counting)
        return compiled

    return watch


@pytest.fixture
def team(db: Any) -> Any:
    return TeamFactory(name="华东一组")


@pytest.fixture
def other_team(db: Any) -> Any:
    return TeamFactory(name="华南一组", region="south")


@pytest.fixture
def manager(team: Any) -> Any:
    user = UserFactory(username="manager", role=Role.MANAGER, team=team)
    team.manager = user
    team.save()
    return user


@pytest.fixture
def rep1(team: Any, manager: Any) -> Any:
    return UserFactory(username="rep1", role=Role.REP, team=team)


@pytest.fixture
def rep2(team: Any, manager: Any) -> Any:
    return UserFactory(username="rep2", role=Role.REP, team=team)


@pytest.fixture
def outsider(other_team: Any) -> Any:
    return UserFactory(username="outsider", role=Role.REP, team=other_team)


@pytest.fixture
def admin_user(db: Any) -> Any:
    return UserFactory(username="admin", role=Role.ADMIN)


@pytest.fixture
def integration_user(db: Any) -> Any:
    return UserFactory(username="erp", role=Role.INTEGRATION)


@pytest.fixture
def api() -> Callable[[Any], APIClient]:
    def make(user: Any = None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user=user)
        return client

    return make


@pytest.fixture
def reference_tiers() -> None:
    """The tiers and default scoring policy that migrations ship, restored if an earlier
    transactional test emptied the tables (flush)."""
    from importlib import import_module

    from django.apps import apps

    from tiers.models import ScoringPolicy, Tier

    if not Tier.objects.exists():
        restore_shipped_tiers()
    if not ScoringPolicy.objects.filter(is_active=True).exists():
        import_module("tiers.migrations.0004_default_scoring_policy").create(apps, None)


@pytest.fixture
def reference_risk_rules() -> None:
    """The default risk rules that migrations ship, restored if an earlier transactional
    test emptied the tables (flush)."""
    from risk.models import RiskRule

    if not RiskRule.objects.exists():
        restore_shipped_rules()


@pytest.fixture
def tasks_run_here() -> Iterator[list[str]]:
    """Celery tasks run in this process as they are queued (as a worker would run them);
    the list collects the name of each task run."""
    from celery.signals import task_prerun

    from crm.celery import app

    ran: list[str] = []

    def record(sender: Any = None, **_kwargs: Any) -> None:
        ran.append(sender.name)

    app.conf.task_always_eager = True
    task_prerun.connect(record)
    try:
        yield ran
    finally:
        app.conf.task_always_eager = False
        task_prerun.disconnect(record)
