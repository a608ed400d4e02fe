"""API lists: counted up to a cap, paged exactly beyond it, at a constant query count."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.models import Customer
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/customers/"


@pytest.fixture
def seven(rep1: Any) -> list[Customer]:
    return [CustomerFactory(owner=rep1, name=f"客户{n:02d}") for n in range(7)]


def test_the_count_is_exact_under_the_cap(api: Any, rep1: Any, seven: list[Customer], settings: Any) -> None:
    settings.CRM_LIST_COUNT_CAP = 10
    body = api(rep1).get(URL, {"page_size": 3}).json()
    assert body["count"] == 7 and body["count_capped"] is False
    assert body["next"].endswith("page=2&page_size=3") or "page=2" in body["next"]
    assert body["previous"] is None


def test_past_the_cap_the_count_is_the_cap_and_paging_stays_exact(
    api: Any, rep1: Any, seven: list[Customer], settings: Any
) -> None:
    settings.CRM_LIST_COUNT_CAP = 4
    client = api(rep1)
    first = client.get(URL, {"page_size": 2}).json()
    assert (first["count"], first["count_capped"]) == (4, True)
    seen = [row["id"] for row in first["results"]]
    url = first["next"]
    while url:
        page = client.get(url).json()
        assert page["count_capped"] is True
        seen += [row["id"] for row in page["results"]]
        url = page["next"]
    # Every customer once, in order, although only four were counted.
    assert seen == [c.pk for c in sorted(seven, key=lambda c: (c.name, c.pk))]
    assert page["previous"] is not None


def test_a_short_list_is_not_counted_again(api: Any, rep1: Any, seven: list[Customer]) -> None:
    client = api(rep1)
    client.get(URL)
    with CaptureQueriesContext(connection) as one_page:
        body = client.get(URL, {"page_size": 50}).json()
    assert body["count"] == 7 and body["next"] is None
    assert not any("COUNT(" in q["sql"].upper() for q in one_page.captured_queries)
    with CaptureQueriesContext(connection) as paged:
        client.get(URL, {"page_size": 2})
    # One query more: the (capped) count.
    assert len(paged.captured_queries) == len(one_page.captured_queries) + 1


def test_last_and_bad_pages(api: Any, rep1: Any, seven: list[Customer], settings: Any) -> None:
    client = api(rep1)
    last = client.get(URL, {"page_size": 3, "page": "last"}).json()
    assert len(last["results"]) == 1 and last["next"] is None and "page=2" in last["previous"]
    for bad in ("0", "-1", "x", "4", "99999999999999999999"):
        answer = client.get(URL, {"page_size": 3, "page": bad}, HTTP_ACCEPT_LANGUAGE="en")
        assert answer.status_code == 404, bad
        assert answer.json()["message"] == "Invalid page."
    settings.CRM_LIST_COUNT_CAP = 4
    capped_last = client.get(URL, {"page_size": 3, "page": "last"}).json()
    # The page holding the last row counted (the 4th): rows 4 to 6, and a next page.
    assert capped_last["count_capped"] is True and len(capped_last["results"]) == 3
    assert capped_last["next"] is not None


def test_the_capped_count_costs_the_same_for_every_scope(api: Any, rep1: Any, admin_user: Any, settings: Any) -> None:
    """The count reads at most cap + 1 rows, whoever asks; the list as it opens reads
    none, but sums the customers kept per team and owner."""
    settings.CRM_LIST_COUNT_CAP = 3
    CustomerFactory.create_batch(6, owner=rep1)
    with CaptureQueriesContext(connection) as queries:
        body = api(admin_user).get(URL, {"page_size": 2, "ordering": "code"}).json()
    assert body["count"] == 3 and body["count_capped"] is True
    (count,) = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert "LIMIT 4" in count
    with CaptureQueriesContext(connection) as queries:
        body = api(admin_user).get(URL, {"page_size": 2}).json()
    assert body["count"] == 3 and body["count_capped"] is True
    (count,) = [q["sql"] for q in queries.captured_queries if "SUM(" in q["sql"].upper()]
    assert "customers_archivefigure" in count and "COUNT(" not in " ".join(q["sql"] for q in queries)


# ------------------------------------------------------------------ the workspace's pages
def test_a_workspace_queue_says_more_than_the_cap(client: Any, rep1: Any, settings: Any) -> None:
    from tests.factories import FeedbackFactory

    customer = CustomerFactory(owner=rep1)
    for _n in range(4):
        FeedbackFactory(customer=customer)
    client.force_login(rep1)
    settings.CRM_LIST_COUNT_CAP = 10
    page = client.get("/service/feedback/", {"status": ""})
    assert page.context["page"].paginator.count == 4 and not page.context["page"].paginator.more
    settings.CRM_LIST_COUNT_CAP = 3
    page = client.get("/service/feedback/", {"status": ""})
    assert page.context["page"].paginator.count == 3 and page.context["page"].paginator.more
    assert "超过 3 条" in page.content.decode()  # the page speaks Chinese by default


def test_the_capped_paginator_counts_a_list_as_it_is() -> None:
    from crm.core.pagination import CappedPaginator

    paginator = CappedPaginator(list(range(30)), 10)
    assert (paginator.count, paginator.more, paginator.num_pages) == (30, False, 3)
