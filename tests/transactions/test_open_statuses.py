"""One set of open order statuses: the partial indexes of open receivables, the risk scan
that reads them and the migrations agree, because each takes it from
``transactions.choices.OPEN_STATUSES``."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.models import Q

from risk.kinds import overdue_payment
from tiers import engine as tier_engine
from transactions.choices import OPEN_STATUSES, PAID_STATUSES, TransactionStatus, sql_list
from transactions.models import Transaction

OPEN_INDEXES = {"txn_open_due", "txn_open_customer_due", "txn_overdue"}


def _status_conditions(indexes: list[Any]) -> dict[str, Any]:
    """Each partial index whose condition is a set of statuses, by name: its statuses."""
    found = {}
    for index in indexes:
        condition = index.condition
        if isinstance(condition, Q) and condition.children and condition.children[0][0] == "status__in":
            assert len(condition.children) == 1 and not condition.negated, index.name
            found[index.name] = condition.children[0][1]
    return found


def test_the_open_statuses_are_the_unpaid_ones() -> None:
    assert OPEN_STATUSES == (TransactionStatus.PENDING, TransactionStatus.SHIPPED)
    assert sql_list(OPEN_STATUSES) == "'pending', 'shipped'"
    assert sql_list(PAID_STATUSES) == "'paid', 'shipped', 'completed'"


def test_every_partial_index_on_a_set_of_statuses_is_on_the_open_ones() -> None:
    conditions = _status_conditions(Transaction._meta.indexes)
    assert set(conditions) == OPEN_INDEXES
    assert all(list(statuses) == list(OPEN_STATUSES) for statuses in conditions.values())


def test_the_migrations_build_the_same_open_indexes() -> None:
    """The model's indexes are the migrated ones (compared as ``makemigrations`` compares
    them): no migration is missing."""
    state = MigrationLoader(None, ignore_no_migrations=True).project_state()
    migrated = state.models["transactions", "transaction"].options["indexes"]
    assert {name: list(statuses) for name, statuses in _status_conditions(migrated).items()} == {
        name: list(statuses) for name, statuses in _status_conditions(Transaction._meta.indexes).items()
    }
    assert sorted(migrated, key=lambda index: index.name) == sorted(
        Transaction._meta.indexes, key=lambda index: index.name
    )


@pytest.mark.django_db
def test_the_database_indexes_and_the_scan_name_the_same_statuses() -> None:
    """The partial indexes serve the overdue scan only if its statement names their
    statuses: both come from the constant."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, pg_get_expr(i.indpred, i.indrelid) FROM pg_indexes p"
            " JOIN pg_class c ON c.relname = p.indexname JOIN pg_index i ON i.indexrelid = c.oid"
            " WHERE p.tablename = 'transactions_transaction' AND p.indexname = ANY(%s)",
            [sorted(OPEN_INDEXES)],
        )
        predicates = dict(cursor.fetchall())
    assert set(predicates) == OPEN_INDEXES
    for predicate in predicates.values():
        assert sorted(re.findall(r"'(\w+)'", predicate)) == sorted(OPEN_STATUSES)
    # The overdue index's key and its statistics name them too (``open_due_expression``).
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_indexdef('txn_overdue'::regclass),"
            " (SELECT pg_get_statisticsobjdef(oid) FROM pg_statistic_ext WHERE stxname = 'txn_open_due_stats')"
        )
        index, statistics = cursor.fetchone()
    key = index.split(" INCLUDE ")[0]
    assert sorted(re.findall(r"'(\w+)'", key)) == sorted(OPEN_STATUSES), key
    assert sorted(re.findall(r"'(\w+)'", statistics)) == sorted(OPEN_STATUSES), statistics
    assert f"t.status IN ({sql_list(OPEN_STATUSES)})" in overdue_payment.KIND.findings
    assert f"t.status IN ({sql_list(OPEN_STATUSES)})" in overdue_payment.KIND.moved
    assert f"status IN ({sql_list(PAID_STATUSES)})" in tier_engine.statement()
