"""What a process keeps between requests (the field policy, the tier schedule) is used
while its generation holds, and a change to its rows, whoever makes it, replaces the
generation in the same transaction: the next request sees the change."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from crm.access.models import FieldPermission
from crm.access.policy import Level, policy_for
from crm.accounts.services import api_token_create
from crm.core import generations
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def _token(name: str) -> str | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT token::text FROM core_generation WHERE name = %s", [name])
        row = cursor.fetchone()
    return row[0] if row else None


def _token_client(user: Any) -> APIClient:
    client = APIClient()
    key = api_token_create(actor=user, user=user, name="t", scopes=["read"])[1]
    client.credentials(HTTP_AUTHORIZATION="Token " + key)
    return client


def test_any_change_to_the_rows_replaces_the_generation_and_a_rollback_does_not() -> None:
    before = _token(generations.FIELD_POLICY)
    assert before is not None
    with transaction.atomic():
        FieldPermission.objects.create(resource="customers", field="phone", role="rep", level="masked")
        transaction.set_rollback(True)
    assert _token(generations.FIELD_POLICY) == before
    permission = FieldPermission.objects.create(resource="customers", field="phone", role="rep", level="masked")
    changed = _token(generations.FIELD_POLICY)
    assert changed not in (None, before)
    with connection.cursor() as cursor:  # a change made outside the application counts too
        cursor.execute("UPDATE access_fieldpermission SET level = 'hidden' WHERE id = %s", [permission.pk])
    assert _token(generations.FIELD_POLICY) not in (None, changed)
    schedule = _token(generations.TIER_SCHEDULE)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE tiers_scoringpolicy SET note = note")
    assert _token(generations.TIER_SCHEDULE) not in (None, schedule)


def test_a_policy_change_applies_to_the_next_request(rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1, team=rep1.team, phone="13800001234")
    client = _token_client(rep1)
    assert client.get(f"/api/v1/customers/{customer.pk}/").json()["phone"] == "13800001234"
    FieldPermission.objects.create(resource="customers", field="phone", role="rep", level="hidden")
    assert "phone" not in client.get(f"/api/v1/customers/{customer.pk}/").json()
    FieldPermission.objects.filter(resource="customers", field="phone").delete()
    assert client.get(f"/api/v1/customers/{customer.pk}/").json()["phone"] == "13800001234"


def test_an_api_read_takes_the_generations_with_its_token(rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1, team=rep1.team)
    client = _token_client(rep1)
    client.get(f"/api/v1/customers/{customer.pk}/")
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"/api/v1/customers/{customer.pk}/").status_code == 200
    statements = [query["sql"] for query in queries.captured_queries]
    assert sum("core_generation" in sql for sql in statements) == 1
    assert "core_generation" in statements[0]  # with the token
    assert not any("access_fieldpermission" in sql or "tiers_scoringpolicy" in sql for sql in statements)


def test_a_page_reads_the_generations_once(client: Any, rep1: Any) -> None:
    CustomerFactory(owner=rep1, team=rep1.team)
    client.force_login(rep1)
    client.get("/customers/")
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/customers/").status_code == 200
    statements = [query["sql"] for query in queries.captured_queries]
    assert sum("FROM core_generation" in sql for sql in statements) == 1
    assert not any("FROM access_fieldpermission" in sql for sql in statements)


def test_the_tier_schedule_follows_a_finished_run(rep1: Any, reference_tiers: None) -> None:
    from tiers.selectors import tier_schedule
    from tiers.services import tier_run_evaluate_now

    CustomerFactory(owner=rep1, team=rep1.team)
    before = tier_schedule()
    with CaptureQueriesContext(connection) as queries:
        assert tier_schedule() == before  # kept: only the generations are read
    assert len(queries) == 1
    run = tier_run_evaluate_now(actor=None, trigger="command")
    after = tier_schedule()
    assert after.last_finished_at is not None and after != before
    assert after.last_as_of == run.as_of


def test_without_generations_the_rows_are_read(rep1: Any) -> None:
    """A table emptied by a flush: the policy is read as it was, by its content."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_generation")
    assert policy_for(rep1).level("customers", "phone") == Level.WRITE
    FieldPermission.objects.create(resource="customers", field="phone", role="rep", level="masked")
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_generation")
    assert policy_for(rep1).level("customers", "phone") == Level.MASKED
    assert generations.current(generations.FIELD_POLICY) is None


def test_outside_a_request_every_question_reads_anew() -> None:
    first = generations.current(generations.FIELD_POLICY)
    FieldPermission.objects.create(resource="customers", field="phone", role="rep", level="masked")
    assert generations.current(generations.FIELD_POLICY) not in (None, first)


def test_what_a_process_keeps_is_read_once_per_generation() -> None:
    reads: list[str | None] = []

    def read(token: str | None) -> int:
        reads.append(token)
        return len(reads)

    def bump() -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO core_generation (name, token) VALUES ('kept_in_a_test', gen_random_uuid()) "
                "ON CONFLICT (name) DO UPDATE SET token = EXCLUDED.token"
            )

    bump()
    assert generations.kept("kept_in_a_test", read) == 1
    assert generations.kept("kept_in_a_test", read) == 1 and len(reads) == 1
    bump()
    assert generations.kept("kept_in_a_test", read) == 2  # a new generation: read anew
    assert reads[0] != reads[1] and None not in reads
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_generation WHERE name = 'kept_in_a_test'")
    generations.kept("kept_in_a_test", read)
    generations.kept("kept_in_a_test", read)
    assert reads[2:] == [None, None]  # no generation: read every time, keep nothing
