"""A search that matches few rows reads its page among their ids; a broad one keeps its condition."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.access import filters
from tests.factories import CustomerFactory

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
    assert "LIKE" in _page_query(queries.captured_queries)


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
