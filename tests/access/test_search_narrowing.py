"""A search that matches few rows reads its page among their ids; a broad one keeps its
condition, checked as the page's order is walked; the query finding the ids also counts them."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.access import filters
from customers.models import Customer
from tests.factories import CustomerFactory, TransactionFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/customers/"


def _page_query(queries: Any) -> str:
    (page,) = [q["sql"] for q in queries if '"customers_customer"."created_at"' in q["sql"]]
    return page


def test_a_rare_match_is_paged_among_its_ids(api: Any, rep1: Any, rep2: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(filters, "SEARCH_IDS_MAX", 3)
    mine = [CustomerFactory(owner=rep1, name=f"杭州嘉丰酒店{n}") for n in range(2)]
    CustomerFactory(owner=rep2, name="杭州嘉丰酒店 (other rep)")
    CustomerFactory(owner=rep1, name="宁波港务")
    with CaptureQueriesContext(connection) as queries:
        body = api(rep1).get(URL, {"search": "嘉丰酒店"}).json()
    assert [row["id"] for row in body["results"]] == [c.pk for c in mine]
    assert body["count"] == 2
    page = _page_query(queries.captured_queries)
    assert "LIKE" not in page and f"IN ({mine[0].pk}, {mine[1].pk})" in page


def test_a_broad_match_keeps_its_condition(api: Any, rep1: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(filters, "SEARCH_IDS_MAX", 3)
    many = [CustomerFactory(owner=rep1, name=f"上海酒店{n}") for n in range(5)]
    with CaptureQueriesContext(connection) as queries:
        body = api(rep1).get(URL, {"search": "酒店", "page_size": 2}).json()
    assert body["count"] == 5 and len(body["results"]) == 2 and body["next"]
    assert [row["id"] for row in body["results"]] == [c.pk for c in many[:2]]
    page = _page_query(queries.captured_queries)
    # Checked row by row as the page's order is walked: not read whole from the bigram
    # index and sorted (which the first query, finding the ids, does use).
    assert "LIKE" in page and "crm_bigrams" not in page
    assert any("crm_bigrams" in q["sql"] for q in queries.captured_queries)


def test_a_broad_match_names_the_related_records_it_matches_by_their_ids(
    api: Any, admin_user: Any, monkeypatch: Any
) -> None:
    """Orders searched broadly are paged by walking them in the page's order; a match of
    their customer's name is the few matching customers' ids, checked on each order,
    not a look-up of each order's customer."""
    monkeypatch.setattr(filters, "SEARCH_IDS_MAX", 3)
    named = CustomerFactory(name="温州永嘉泵阀")
    by_customer = TransactionFactory(customer=named)
    by_reference = [TransactionFactory(source="erp", external_ref=f"永嘉泵阀-{n}") for n in range(4)]
    TransactionFactory(external_ref="other")
    with CaptureQueriesContext(connection) as queries:
        body = api(admin_user).get("/api/v1/transactions/", {"search": "永嘉泵阀"}).json()
    assert {row["id"] for row in body["results"]} == {by_customer.pk, *(o.pk for o in by_reference)}
    (page,) = [q["sql"] for q in queries.captured_queries if '"transactions_transaction"."notes"' in q["sql"]]
    where = page.split(" WHERE ")[1]
    assert f'"transactions_transaction"."customer_id" IN ({named.pk})' in where
    assert '"customers_customer"."name"' not in where


def test_the_ids_of_a_rare_term_are_found_on_its_indexes(api: Any, rep1: Any, manager: Any) -> None:
    """The query finding a rare term's ids is planned without reading the table from its
    start: with a limit, PostgreSQL would take a scan that stops there, and the matches
    of a term often lie together (a year's references), far from where the scan starts.
    A term that most rows hold is left to the scan, which meets them at once; so are a
    rep's own rows, which PostgreSQL reads from the rep's customers."""
    Customer.objects.bulk_create(
        CustomerFactory.build(owner=rep1, team=rep1.team, name=f"宁波港务{n}") for n in range(300)
    )
    CustomerFactory(owner=rep1, name="嘉兴织造")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE customers_customer; ANALYZE accounts_team; ANALYZE accounts_user")

    def ids_query_forced(user: Any, term: str) -> bool:
        with CaptureQueriesContext(connection) as queries:
            body = api(user).get(URL, {"search": term}).json()
        assert body["count"] == (1 if term == "嘉兴织造" else 300)
        sql = [q["sql"] for q in queries.captured_queries]
        ids = next(n for n, q in enumerate(sql) if q.startswith('SELECT "customers_customer"."id" AS "pk"'))
        return "set_config('enable_seqscan', 'off'" in sql[ids - 1]

    assert ids_query_forced(manager, "嘉兴织造")
    assert not ids_query_forced(manager, "宁波港务")
    assert not ids_query_forced(rep1, "嘉兴织造")
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('enable_seqscan')")
        assert cursor.fetchone() == ("on",)  # and back for the rest of the request


def test_a_whole_tax_id_is_found_in_any_case_and_the_city_is_a_filter(api: Any, rep1: Any) -> None:
    found = CustomerFactory(owner=rep1, tax_id="91330100MA2CDEFG1X", city="杭州")
    CustomerFactory(owner=rep1, tax_id="91330100MA2CDEFG2Y", city="宁波")
    client = api(rep1)
    assert [r["id"] for r in client.get(URL, {"search": "91330100ma2cdefg1x"}).json()["results"]] == [found.pk]
    assert client.get(URL, {"search": "91330100MA2C"}).json()["count"] == 0
    assert [r["id"] for r in client.get(URL, {"city": "杭州"}).json()["results"]] == [found.pk]


def test_a_sort_by_a_shared_value_pages_every_row_once(api: Any, rep1: Any) -> None:
    """Customers of one city come back in id order within it, so pages never overlap."""
    same = [CustomerFactory(owner=rep1, city="杭州", name=f"客户{n}") for n in (3, 1, 2, 5, 4)]
    client = api(rep1)
    for ordering, expected in (
        ("city", sorted(c.pk for c in same)),
        ("-city", sorted((c.pk for c in same), reverse=True)),
    ):
        seen, url = [], URL
        params: dict[str, Any] | None = {"ordering": ordering, "page_size": 2}
        while url:
            body = client.get(url, params).json()
            seen += [row["id"] for row in body["results"]]
            url, params = body["next"], None
        assert seen == expected, ordering


def _counts(queries: Any) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].startswith("SELECT COUNT(*)")]


@pytest.mark.parametrize("matching", [2, 5, 7])
def test_a_search_counts_its_matches_as_it_finds_them(
    api: Any, rep1: Any, rep2: Any, monkeypatch: Any, settings: Any, matching: int
) -> None:
    """The query that finds the matches' ids reads up to the count cap and one more, so
    the page's count comes from it: rare (paged among the ids), broad (paged by the
    condition), and past the cap (the cap, and ``count_capped``)."""
    monkeypatch.setattr(filters, "SEARCH_IDS_MAX", 3)
    settings.CRM_LIST_COUNT_CAP = 6
    for n in range(matching):
        CustomerFactory(owner=rep1, name=f"嘉兴织造{n}")
    CustomerFactory(owner=rep2, name="嘉兴织造 (other rep)")
    CustomerFactory(owner=rep1, name="宁波港务")
    with CaptureQueriesContext(connection) as queries:
        body = api(rep1).get(URL, {"search": "嘉兴织造", "page_size": 2}).json()
    assert body["count"] == min(matching, 6)
    assert body["count_capped"] is (matching > 6)
    assert len(body["results"]) == 2 and bool(body["next"]) is (matching > 2)
    assert _counts(queries.captured_queries) == []
    last = api(rep1).get(URL, {"search": "嘉兴织造", "page_size": 2, "page": "last"}).json()
    assert len(last["results"]) == (2 if matching > 6 else matching - 2 * ((matching - 1) // 2))


def test_a_count_taken_on_the_way_does_not_outlive_a_further_condition(rep1: Any, settings: Any) -> None:
    from crm.access.scope import scoped_queryset
    from crm.core.pagination import capped_count, counted_already

    settings.CRM_LIST_COUNT_CAP = 5
    for n in range(3):
        CustomerFactory(owner=rep1, name=f"温州眼镜{n}", city="温州" if n else "杭州")
    rows = scoped_queryset(Customer, rep1)
    marked = counted_already(rows, 3)
    with CaptureQueriesContext(connection) as queries:
        assert capped_count(marked.order_by("-name")) == (3, False)  # a sort keeps the rows
    assert queries.captured_queries == []
    assert capped_count(marked.filter(city="温州")) == (2, False)  # counted again
    assert capped_count(marked, cap=2) == (2, True)  # another cap: counted again
