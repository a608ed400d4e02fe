"""The duplicate-candidates endpoint: scope, filters, the "not a duplicate" verdict."""

from __future__ import annotations

from typing import Any

import pytest

from crm.audit.models import AuditEvent
from duplicates.finder import find_duplicates
from duplicates.models import DuplicateCandidate

from .conftest import customer

pytestmark = pytest.mark.django_db
URL = "/api/v1/duplicate-candidates/"


@pytest.fixture
def pairs(rep1: Any, rep2: Any, outsider: Any) -> dict[str, DuplicateCandidate]:
    """rep1's own pair; a pair across rep1 and rep2 (one team); a pair across teams."""
    own = (customer(rep1, "杭州明远科技有限公司"), customer(rep1, "杭州明远科技股份有限公司"))
    team = (customer(rep1, "宁波港通物流有限公司", city="宁波"), customer(rep2, "宁波港通物流公司", city="宁波"))
    across = (customer(rep2, "温州瓯江电器有限公司", city="温州"), customer(outsider, "温州瓯江电器集团", city="温州"))
    find_duplicates()

    def get(first: Any, second: Any) -> DuplicateCandidate:
        low, high = sorted([first.pk, second.pk])
        return DuplicateCandidate.objects.get(customer_a_id=low, customer_b_id=high)

    return {"own": get(*own), "team": get(*team), "across": get(*across)}


def ids(response: Any) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_each_sees_the_pairs_whose_two_customers_they_may_see(
    api: Any, pairs: dict[str, DuplicateCandidate], rep1: Any, manager: Any, outsider: Any, admin_user: Any
) -> None:
    assert ids(api(rep1).get(URL)) == {pairs["own"].pk}
    assert ids(api(manager).get(URL)) == {pairs["own"].pk, pairs["team"].pk}
    assert ids(api(outsider).get(URL)) == set()
    assert ids(api(admin_user).get(URL)) == {pair.pk for pair in pairs.values()}
    assert api(outsider).get(f"{URL}{pairs['own'].pk}/").status_code == 404


def test_the_list_shows_reasons_in_the_readers_language_and_filters(
    api: Any, pairs: dict[str, DuplicateCandidate], admin_user: Any
) -> None:
    client = api(admin_user)
    body = client.get(f"{URL}{pairs['own'].pk}/", HTTP_ACCEPT_LANGUAGE="en").json()
    assert body["reasons"][0]["text"] == "names 100% alike, both in 杭州"
    assert body["customer_a"]["name"] == "杭州明远科技有限公司"
    assert ids(client.get(URL, {"min_score": 101})) == set()
    assert ids(client.get(URL, {"status": "not_duplicate"})) == set()
    assert client.get(URL, {"min_score": "many"}).status_code == 400


def test_a_manager_marks_a_pair_not_a_duplicate_for_good(
    api: Any, pairs: dict[str, DuplicateCandidate], manager: Any
) -> None:
    pair = pairs["team"]
    client = api(manager)
    assert client.post(f"{URL}{pair.pk}/not-duplicate/").status_code == 428
    response = client.post(f"{URL}{pair.pk}/not-duplicate/", HTTP_IF_MATCH='"1"')
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "not_duplicate"
    assert response.json()["decided_by"] == manager.pk
    assert AuditEvent.objects.filter(object_id=str(pair.pk), action="update").exists()
    again = client.post(f"{URL}{pair.pk}/not-duplicate/", HTTP_IF_MATCH='"2"')
    assert again.status_code == 400
    find_duplicates()
    pair.refresh_from_db()
    assert pair.status == "not_duplicate"
    assert ids(client.get(URL, {"status": "open"})) == {pairs["own"].pk}


def test_a_rep_may_not_decide_and_nobody_creates_pairs(
    api: Any, pairs: dict[str, DuplicateCandidate], rep1: Any, admin_user: Any
) -> None:
    pair = pairs["own"]
    assert api(rep1).post(f"{URL}{pair.pk}/not-duplicate/", HTTP_IF_MATCH='"1"').status_code == 403
    assert api(admin_user).post(URL, {}, format="json").status_code in (403, 405)
    assert api(admin_user).delete(f"{URL}{pair.pk}/").status_code in (403, 405)


def test_the_list_runs_the_same_queries_for_many_pairs(
    api: Any, rep1: Any, admin_user: Any, django_assert_max_num_queries: Any
) -> None:
    for n in range(15):
        customer(rep1, f"杭州第{n}号明远科技有限公司", phone=f"0571-8800-{n:04d}")
        customer(rep1, f"宁波第{n}号港通物流公司", phone=f"+86 571 8800 {n:04d}", city="宁波")
    find_duplicates()
    client = api(admin_user)
    with django_assert_max_num_queries(8):
        assert len(ids(client.get(URL))) >= 15
