"""seed_demo: deterministic, valid, complete, audited per table, and safe to run on a live database."""

from __future__ import annotations

import hashlib
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection

from crm.accounts.choices import Role
from crm.accounts.models import User
from crm.audit.choices import Source
from crm.audit.context import audit_context
from crm.audit.models import AuditEvent
from crm.core.validation import record_validate
from customers.models import Customer
from customers.services import customer_create
from demo.seed import DemoSeeder
from tests.demo import read_then_roll_back

pytestmark = pytest.mark.django_db
SEEDED = (
    "customers.customer",
    "customers.contact",
    "customers.activity",
    "transactions.transaction",
    "feedback.servicerecord",
    "feedback.feedback",
    "feedback.satisfactionresponse",
    "campaigns.participation",
)


def _seed(n: int = 40, seed: int = 7) -> str:
    out = StringIO()
    call_command("seed_demo", "--customers", str(n), "--seed", str(seed), stdout=out)
    return out.getvalue()


def _digest() -> str:
    """A fingerprint of the seeded content that does not depend on ids or load time."""
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT string_agg(c.name || c.industry || c.city || c.lifecycle_stage || c.tax_id || u.username
                              || coalesce((SELECT sum(t.amount)::text FROM transactions_transaction t
                                           WHERE t.customer_id = c.id), '')
                              || (SELECT count(*) FROM customers_contact k WHERE k.customer_id = c.id),
                              '|' ORDER BY c.id)
            FROM customers_customer c JOIN accounts_user u ON u.id = c.owner_id
        """)
        (text,) = cursor.fetchone()
    return hashlib.sha256(text.encode()).hexdigest()


def _seeded_in_savepoint(seed: int) -> str:
    return read_then_roll_back(lambda: _seed(seed=seed), _digest)


def _indexes() -> dict[str, tuple[int, str]]:
    """Each index and reference of the seeded tables: its oid (new when it is made
    again) and its definition, with its columns' own statistics targets."""
    tables = [apps.get_model(label)._meta.db_table for label in SEEDED]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, c.oid, pg_get_indexdef(i.indexrelid) || coalesce(
                       (SELECT ' STATISTICS ' || string_agg(a.attnum || '=' || a.attstattarget, ',')
                        FROM pg_attribute a WHERE a.attrelid = c.oid AND COALESCE(a.attstattarget, -1) >= 0), '')
            FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
            WHERE i.indrelid::regclass::text = ANY(%s)
            """,
            [tables],
        )
        found = {name: (oid, definition) for name, oid, definition in cursor.fetchall()}
        cursor.execute(
            """
            SELECT conname, oid, pg_get_constraintdef(oid) FROM pg_constraint
            WHERE conrelid::regclass::text = ANY(%s) AND contype = 'f'
            """,
            [tables],
        )
        return found | {name: (oid, definition) for name, oid, definition in cursor.fetchall()}


def _bulk_seed(n: int = 40, seed: int = 7) -> None:
    with audit_context(source=Source.COMMAND):
        DemoSeeder(customers=n, seed=seed, log=lambda _line: None, bulk_from=1).run()


def test_a_large_load_builds_the_indexes_after_its_rows() -> None:
    """A load of a new book (here made "large" from one customer) drops each table's
    secondary indexes and references and makes them again after the rows, under the same
    names and definitions (and statistics targets); the primary keys, the unique constraints and the indexes that
    start with a reference stay throughout; the data is the same as a load that keeps
    them up row by row."""
    before = _indexes()
    kept = read_then_roll_back(_seed, _digest)
    bulk_indexes: dict[str, tuple[int, str]] = {}

    def read() -> str:
        bulk_indexes.update(_indexes())
        call_command("verify_audit", stdout=StringIO())
        return _digest()

    assert read_then_roll_back(_bulk_seed, read) == kept
    assert {name: d for name, (_oid, d) in bulk_indexes.items()} == {name: d for name, (_oid, d) in before.items()}
    rebuilt = {name for name in before if bulk_indexes[name][0] != before[name][0]}
    assert "txn_order_date_id" in rebuilt and "customer_search_bigrams" in rebuilt
    assert "txn_external_ref_trgm" in rebuilt and before["txn_external_ref_trgm"][1].endswith(" STATISTICS 1=1000")
    references = {name for name, (_oid, d) in before.items() if d.startswith("FOREIGN KEY")}
    assert len(references) > 10 and references <= rebuilt
    assert "transactions_transaction_pkey" not in rebuilt
    assert "transaction_external_ref_unique" in rebuilt  # a unique index on some rows
    assert "txn_customer_metrics" not in rebuilt  # it starts with the order's customer
    assert "customers_customer_code_key" not in rebuilt


def test_a_load_into_a_book_keeps_its_indexes() -> None:
    """Into tables that already hold as many rows as the load has customers, a load
    keeps the indexes up as it goes: rebuilding them would cost the rows already held."""
    _seed(n=40)
    before = _indexes()
    _bulk_seed(n=40, seed=8)
    after = _indexes()
    assert after["customer_search_bigrams"] == before["customer_search_bigrams"]
    assert after["txn_order_date_id"] == before["txn_order_date_id"]
    assert Customer.objects.count() == 80


def test_same_seed_same_data_other_seed_other_data() -> None:
    first = _seeded_in_savepoint(7)
    again = _seeded_in_savepoint(7)
    other = _seeded_in_savepoint(8)
    assert first == again
    assert first != other


def test_loads_every_table_with_valid_rows_and_demo_users() -> None:
    output = _seed()
    assert "demo12345" in output
    assert Customer.objects.count() == 40
    for label in SEEDED:
        assert apps.get_model(label).objects.exists(), label
    for label in (*SEEDED, "transactions.product", "campaigns.campaign"):
        for row in apps.get_model(label).objects.all()[:60]:
            row.full_clean()
            record_validate(instance=row)  # the input rules too: no order in 1900, no visit done tomorrow
    rep1, rep2, manager = (User.objects.get(username=u) for u in ("rep1", "rep2", "manager"))
    assert rep1.role == rep2.role == Role.REP and manager.role == Role.MANAGER
    assert rep1.team == rep2.team == manager.team and rep1.team.manager == manager
    assert User.objects.get(username="admin").role == Role.ADMIN
    assert rep1.check_password("demo12345")
    assert 0 < rep1.owned_customers.count() < 40
    # Every customer has exactly one primary contact.
    assert not Customer.objects.exclude(contacts__is_primary=True).exists()


def test_one_audit_event_per_table_and_the_chain_holds() -> None:
    _seed()
    events = AuditEvent.objects.filter(action="bulk", source="command")
    assert set(events.values_list("resource", flat=True)) >= set(SEEDED)
    assert events.count() == len(set(events.values_list("resource", flat=True)))
    call_command("verify_audit", stdout=StringIO())


def test_the_app_keeps_working_after_a_load() -> None:
    _seed()
    fresh = customer_create(actor=User.objects.get(username="rep1"), data={"name": "之后新建的客户"})
    assert not Customer.objects.filter(code=fresh.code).exclude(pk=fresh.pk).exists()
    assert fresh.pk > Customer.objects.exclude(pk=fresh.pk).order_by("-pk").first().pk


def test_if_empty_leaves_a_loaded_database_alone() -> None:
    _seed()
    out = StringIO()
    call_command("seed_demo", "--customers", "10", "--if-empty", stdout=out)
    assert "already has customers" in out.getvalue()
    assert Customer.objects.count() == 40


def test_bad_sizes_are_refused() -> None:
    with pytest.raises(CommandError):
        call_command("seed_demo", "--customers", "0", stdout=StringIO())
    with pytest.raises(CommandError):
        call_command("seed_demo", "--transactions-per-customer", "1000", stdout=StringIO())
