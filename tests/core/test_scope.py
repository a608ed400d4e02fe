"""Record scope: who sees which customers, and their child records through them."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser

from crm.access.scope import customers_visible_to, scoped_queryset
from crm.accounts.choices import Role
from customers.models import Contact
from tests.factories import ContactFactory, CustomerFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_each_role_sees_its_customers(
    rep1: Any, rep2: Any, manager: Any, outsider: Any, admin_user: Any, integration_user: Any
) -> None:
    own = CustomerFactory(owner=rep1)
    mate = CustomerFactory(owner=rep2)
    other = CustomerFactory(owner=outsider)
    managers_own = CustomerFactory(owner=manager, team=None)
    everything = {own.pk, mate.pk, other.pk, managers_own.pk}

    def seen(user: Any) -> set[int]:
        return set(customers_visible_to(user).values_list("pk", flat=True))

    assert seen(rep1) == {own.pk}
    assert seen(rep2) == {mate.pk}
    assert seen(manager) == {own.pk, mate.pk, managers_own.pk}
    assert seen(outsider) == {other.pk}
    assert seen(admin_user) == everything
    assert seen(integration_user) == everything
    assert seen(AnonymousUser()) == set()


def test_manager_of_two_teams_sees_both_and_inactive_users_see_nothing(db: Any) -> None:
    boss = UserFactory(role=Role.MANAGER)
    t1, t2 = TeamFactory(manager=boss), TeamFactory(manager=boss)
    a = CustomerFactory(owner=UserFactory(team=t1))
    b = CustomerFactory(owner=UserFactory(team=t2))
    assert set(customers_visible_to(boss).values_list("pk", flat=True)) == {a.pk, b.pk}
    boss.is_active = False
    assert not customers_visible_to(boss).exists()


def test_child_records_follow_their_customer(rep1: Any, rep2: Any) -> None:
    mine = ContactFactory(customer=CustomerFactory(owner=rep1))
    ContactFactory(customer=CustomerFactory(owner=rep2))
    assert list(scoped_queryset(Contact, rep1)) == [mine]


def test_scope_is_one_sql_condition_not_a_list_of_ids(rep1: Any) -> None:
    CustomerFactory(owner=rep1)
    sql = str(scoped_queryset(Contact, rep1).query)
    assert "owner_id" in sql and " IN (" not in sql


def test_every_model_states_its_scope() -> None:
    from django.apps import apps

    from crm.audit.models import AuditChainHead

    undeclared = [
        model.__name__
        for model in apps.get_models()
        # axes keeps its login-attempt records for the admin site only, outside the API.
        if model._meta.app_label not in ("admin", "auth", "contenttypes", "sessions", "axes")
        and model is not AuditChainHead
        and not hasattr(model, "scope_path")
    ]
    assert undeclared == []
