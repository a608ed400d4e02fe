"""A customer's copy of its tier's rank, which keeps the lists' "by tier" order on an
index: it follows the tier whichever way it is set, and a tier's new rank."""

from __future__ import annotations

from typing import Any

import pytest

from customers.models import Customer
from tests.factories import CustomerFactory, tier
from tiers.models import Tier

pytestmark = pytest.mark.django_db


def _rank(customer: Customer) -> int:
    return Customer.objects.values_list("tier_rank", flat=True).get(pk=customer.pk)


def test_the_rank_follows_the_tier(rep1: Any) -> None:
    none = CustomerFactory(owner=rep1)
    gold = CustomerFactory(owner=rep1, tier=tier("gold"))
    assert (_rank(none), _rank(gold)) == (0, tier("gold").rank)

    Customer.objects.filter(pk=none.pk).update(tier=tier("diamond"))
    gold.tier = None
    gold.save()
    assert (_rank(none), _rank(gold)) == (tier("diamond").rank, 0)
    Customer.objects.filter(pk=none.pk).update(tier_rank=1)  # not a value of its own
    assert _rank(none) == tier("diamond").rank


def test_a_tiers_new_rank_reaches_its_customers(rep1: Any) -> None:
    diamond = tier("diamond")
    customer = CustomerFactory(owner=rep1, tier=diamond)
    Tier.objects.filter(pk=diamond.pk).update(rank=99)
    assert _rank(customer) == 99


def test_sorting_by_tier_puts_no_tier_lowest(rep1: Any, api: Any, client: Any) -> None:
    bronze = CustomerFactory(owner=rep1, tier=tier("bronze"), name="甲")
    diamond = CustomerFactory(owner=rep1, tier=tier("diamond"), name="乙")
    none = CustomerFactory(owner=rep1, name="丙")

    def ids(ordering: str) -> list[int]:
        body = api(rep1).get("/api/v1/customers/", {"ordering": ordering}).json()
        return [row["id"] for row in body["results"]]

    assert ids("tier__rank") == [none.pk, bronze.pk, diamond.pk]
    assert ids("-tier__rank") == [diamond.pk, bronze.pk, none.pk]
    client.force_login(rep1)
    for sort, order in (("tier", [none, bronze, diamond]), ("-tier", [diamond, bronze, none])):
        rows = client.get("/customers/", {"sort": sort}).context["table"]["rows"]
        assert [row["obj"] for row in rows] == order
