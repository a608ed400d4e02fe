"""A prepared statement returns what its queryset returns, compiled once."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.accounts.models import APIToken, User
from crm.accounts.selectors import api_token_for_key
from crm.accounts.services import api_token_create
from crm.core.statements import Prepared, without_parallel_workers

pytestmark = pytest.mark.django_db


def _by_name_and_team() -> Prepared[User]:
    return Prepared(
        lambda username, team: (
            User.objects.select_related("team").filter(username=username, team_id=team).order_by("pk")
        ),
        str,
        int,
    )


def test_it_returns_what_the_queryset_returns_with_each_call_s_values(rep1: Any, rep2: Any, outsider: Any) -> None:
    users = _by_name_and_team()
    for user in (rep1, rep2, outsider, rep1):
        (found,) = users(user.username, user.team_id)
        expected = User.objects.select_related("team").get(pk=user.pk)
        assert found.pk == expected.pk and found.team == expected.team
        assert [f.attname for f in found._meta.concrete_fields if f.attname in found.__dict__] == [
            f.attname for f in expected._meta.concrete_fields
        ]
        with CaptureQueriesContext(connection) as queries:
            assert found.team.name == expected.team.name  # the related record came with it
        assert len(queries) == 0
    assert users(rep1.username, outsider.team_id) == []
    assert users("' OR 1=1 --", rep1.team_id) == []  # values are parameters, never SQL


def test_it_compiles_once(rep1: Any, watch_compiling: Any) -> None:
    users = _by_name_and_team()
    users(rep1.username, rep1.team_id)
    compiled = watch_compiling()
    with CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            users(rep1.username, rep1.team_id)
    assert compiled == [] and len(queries) == 3


def test_wrong_values_are_refused() -> None:
    users = _by_name_and_team()
    with pytest.raises(TypeError):
        users(1, 2)
    with pytest.raises(TypeError):
        users("rep1")
    unused = Prepared(lambda name: User.objects.filter(username="rep1"), str)
    with pytest.raises(ValueError, match="must appear"):
        unused("rep1")


def test_a_value_used_twice_is_bound_at_each_place(rep1: Any, rep2: Any) -> None:
    twice = Prepared(lambda name: User.objects.filter(username=name) | User.objects.filter(email=name), str)
    assert [u.pk for u in twice(rep1.username)] == [rep1.pk]
    assert [u.pk for u in twice(rep2.email)] == [rep2.pk]
    assert twice("nobody") == []


def test_a_list_of_numbers_is_one_parameter(rep1: Any, rep2: Any, outsider: Any) -> None:
    """``__any_of`` binds the list as one array: one statement for any number of values."""
    users = Prepared(lambda ids: User.objects.filter(pk__any_of=ids).order_by("pk"), list)
    assert [u.pk for u in users([rep1.pk])] == [rep1.pk]
    assert [u.pk for u in users([outsider.pk, rep1.pk, rep2.pk])] == sorted([rep1.pk, rep2.pk, outsider.pk])
    assert users([]) == []
    assert list(User.objects.filter(team__any_of=[rep1.team_id])) == list(User.objects.filter(team=rep1.team_id))


def test_a_token_is_found_by_its_key_with_its_user_in_one_query(rep1: Any) -> None:
    _token, key = api_token_create(actor=rep1, user=rep1, name="one query", scopes=["read"])
    with CaptureQueriesContext(connection) as queries:
        token = api_token_for_key(key=key)
        assert token is not None and token.user == rep1 and token.user.team == rep1.team
    assert len(queries) == 1
    assert api_token_for_key(key=key + "x") is None
    APIToken.objects.filter(pk=token.pk).update(revoked_at="2026-01-01T00:00:00Z")
    assert api_token_for_key(key=key) is None


def _workers() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW max_parallel_workers_per_gather")
        return str(cursor.fetchone()[0])


def test_a_view_runs_without_parallel_workers_and_puts_the_setting_back() -> None:
    before = _workers()
    assert before != "0"

    @without_parallel_workers
    def page() -> str:
        return _workers()

    assert page() == "0"
    assert _workers() == before


@pytest.mark.parametrize(
    ("url", "table"),
    [
        ("/service/feedback/", "feedback_feedback"),
        ("/service/records/", "feedback_servicerecord"),
    ],
)
def test_the_work_queues_read_their_rows_without_parallel_workers(
    client: Any, manager: Any, url: str, table: str
) -> None:
    client.force_login(manager)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    statements = [query["sql"] for query in queries.captured_queries]
    serial = [i for i, sql in enumerate(statements) if "'max_parallel_workers_per_gather', '0'" in sql]
    restored = [i for i, sql in enumerate(statements) if "set_config" in sql and i not in serial]
    reads = [i for i, sql in enumerate(statements) if f'FROM "{table}"' in sql]
    assert serial and restored and reads
    assert serial[0] < min(reads) and max(reads) < restored[-1]
    assert _workers() != "0"


def test_a_statement_compiled_in_one_thread_runs_in_another(rep1: Any) -> None:
    """Each thread runs it on its own connection (a threaded server, the test server)."""
    users = _by_name_and_team()
    users(rep1.username, rep1.team_id)  # compiled here
    outcome: list[Any] = []

    def elsewhere() -> None:
        try:
            outcome.append(users(rep1.username, rep1.team_id))
        except Exception as error:  # noqa: BLE001 - handed to the test's thread
            outcome.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=elsewhere)
    thread.start()
    thread.join()
    assert outcome == [[]]  # ran (the other thread does not see this test's transaction)


def test_a_paged_statement_reads_the_page_it_is_given(rep1: Any, rep2: Any, outsider: Any, manager: Any) -> None:
    users = Prepared(lambda role: User.objects.filter(role=role).order_by("username", "pk"), str, paged=True)
    every = list(User.objects.filter(role=rep1.role).order_by("username", "pk"))
    assert len(every) >= 3
    for limit in range(1, len(every) + 2):
        for offset in range(len(every) + 1):
            assert [u.pk for u in users(rep1.role, limit, offset)] == [u.pk for u in every[offset : offset + limit]]
    assert users(rep1.role, 0, 0) == []
    with pytest.raises(TypeError):
        users(rep1.role, 1)  # the page's size and start are part of every call
    with pytest.raises(ValueError):
        users(rep1.role, 1, -1)


def test_a_paged_statement_is_built_whole_and_in_order() -> None:
    sliced = Prepared(lambda name: User.objects.filter(username=name).order_by("pk")[:5], str, paged=True)
    unordered = Prepared(lambda name: User.objects.filter(username=name).order_by(), str, paged=True)
    for statement in (sliced, unordered):
        with pytest.raises(ValueError):
            statement("rep1", 10, 0)
