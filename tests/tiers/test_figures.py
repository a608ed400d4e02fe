"""The tier dashboard's figures the database keeps per team (tiers migration 0010): after
every kind of write they sum to what counting the records gives, folding them changes no
sum, and the dashboard reads them for every role as it would count the records."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from dateutil.relativedelta import relativedelta
from django.db import connection
from django.db.models import Count, Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm.access.scope import customers_visible_to
from customers.models import Customer
from tests.factories import CustomerFactory, TransactionFactory, UserFactory, tier
from tiers import services
from tiers.choices import RunTrigger
from tiers.models import TierChange, TierCount, TierMoveCount, TierRevenue
from tiers.selectors import tier_dashboard, twelve_months_since
from transactions.models import Transaction

pytestmark = pytest.mark.django_db


def _kept() -> dict[str, Counter[Any]]:
    """The figures as the tables hold them: the sum of each key's rows, keys of 0 left out."""
    figures: dict[str, Counter[Any]] = {"count": Counter(), "revenue": Counter(), "moves": Counter()}
    for *key, n in TierCount.objects.values_list("team", "tier", "region", "industry", "customers"):
        figures["count"][tuple(key)] += n
    for *key, amount in TierRevenue.objects.values_list("team", "tier", "month", "amount"):
        figures["revenue"][tuple(key)] += amount
    for *key, n in TierMoveCount.objects.values_list("team", "run", "from_tier", "to_tier", "kind", "moves"):
        figures["moves"][tuple(key)] += n
    return {name: Counter({k: v for k, v in c.items() if v}) for name, c in figures.items()}


def _counted() -> dict[str, Counter[Any]]:
    """The same figures counted from the records."""
    count = Counter(
        {
            (row["team"], row["tier"], row["region"], row["industry"]): row["n"]
            for row in Customer.objects.values("team", "tier", "region", "industry").annotate(n=Count("id"))
        }
    )
    revenue: Counter[Any] = Counter()
    for order in Transaction.objects.exclude(status__in=["cancelled", "refunded"]).select_related("customer"):
        revenue[(order.customer.team_id, order.customer.tier_id, order.order_date.replace(day=1))] += order.amount
    moves = Counter(
        {
            (row["customer__team"], row["run"], row["from_tier"], row["to_tier"], row["kind"]): row["n"]
            for row in TierChange.objects.filter(run__isnull=False)
            .values("customer__team", "run", "from_tier", "to_tier", "kind")
            .annotate(n=Count("id"))
        }
    )
    return {"count": count, "revenue": Counter({k: v for k, v in revenue.items() if v}), "moves": moves}


def _buyer(owner: Any, amount: int, *, days_ago: int = 5, **extra: Any) -> Customer:
    customer = CustomerFactory(
        owner=owner, influence_score=0, customer_since=timezone.localdate() - dt.timedelta(days=400), **extra
    )
    for n in range(4):
        TransactionFactory(
            customer=customer, amount=Decimal(amount) / 4, status="completed",
            order_date=timezone.localdate() - dt.timedelta(days=days_ago + 40 * n),
        )  # fmt: skip
    return customer


def test_the_figures_follow_every_write(rep1: Any, rep2: Any, outsider: Any, other_team: Any) -> None:
    a = _buyer(rep1, 600_000, region="east", industry="it")
    b = _buyer(rep2, 250_000, region="south", industry="retail")
    c = _buyer(outsider, 1_200_000, region="east", industry="it")
    assert _kept() == _counted()

    services.tier_run_evaluate_now(actor=None, trigger=RunTrigger.COMMAND)  # every tier moves
    assert _kept() == _counted() and _kept()["moves"]

    Customer.objects.filter(pk=a.pk).update(team=other_team)  # its orders and moves follow
    assert _kept() == _counted()
    Customer.objects.filter(pk=b.pk).update(region="north", industry="finance")
    Customer.objects.filter(pk=c.pk).update(name="改名")  # nothing a figure counts
    assert _kept() == _counted()

    order = Transaction.objects.filter(customer=b).first()
    Transaction.objects.filter(pk=order.pk).update(status="cancelled")
    Transaction.objects.filter(customer=c).update(amount=Decimal("1"))
    assert _kept() == _counted()
    # As a merge does: b's orders and tier history move to c, then b goes.
    Transaction.objects.filter(customer=b).update(customer=c)
    TierChange.objects.filter(customer=b).update(customer=c)
    b.delete()
    assert _kept() == _counted()

    services.tier_override(actor=UserFactory(role="admin"), customer=c, tier=tier("diamond"), reason="VIP")
    Transaction.objects.filter(customer=a).delete()
    a.delete()
    services.tier_run_evaluate_now(actor=None, trigger=RunTrigger.COMMAND)
    assert _kept() == _counted()


def test_folding_keeps_every_sum_in_one_row_per_key(rep1: Any, rep2: Any) -> None:
    for n in range(6):
        _buyer(rep1 if n % 2 else rep2, 100_000 * (n + 1), region="east", industry="it")
    services.tier_run_evaluate_now(actor=None, trigger=RunTrigger.COMMAND)  # folds as it goes
    assert TierCount.objects.count() == len(_kept()["count"])
    for _n in range(3):
        _buyer(rep1, 1000, region="east", industry="it")
    before = _kept()
    assert TierCount.objects.count() > len(before["count"])  # a row per statement since

    services.tier_figures_compact()
    assert _kept() == before
    assert TierCount.objects.count() == len(before["count"])
    assert TierRevenue.objects.count() == len(before["revenue"])
    assert TierMoveCount.objects.count() == len(before["moves"])

    TierCount.objects.all().delete()  # lost, as from a restore: counted again
    services.tier_figures_rebuild()
    assert _kept() == _counted() == before


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_nightly_recount_runs_in_a_snapshot_of_its_own(rep1: Any) -> None:
    _buyer(rep1, 100_000)
    TierRevenue.objects.all().delete()
    services.tier_figures_rebuild()  # outside any transaction: its own, REPEATABLE READ
    assert _kept() == _counted()
    with connection.cursor() as cursor:  # and the lock is given back
        cursor.execute("SELECT pg_try_advisory_lock(hashtext('tiers_figures'))")
        assert cursor.fetchone()[0] is True
        cursor.execute("SELECT pg_advisory_unlock(hashtext('tiers_figures'))")


def _expected(user: Any) -> dict[str, Any]:
    """The dashboard's figures counted the long way, over the customers ``user`` sees."""
    customers = customers_visible_to(user)
    since = twelve_months_since(timezone.localdate())
    revenue = dict(
        Transaction.objects.filter(customer__in=customers, order_date__gte=since)
        .exclude(status__in=["cancelled", "refunded"])
        .values_list("customer__tier")
        .annotate(total=Sum("amount"))
    )
    return {
        "customers": dict(customers.values_list("tier").annotate(n=Count("id"))),
        "revenue": {k: v for k, v in revenue.items() if v},
        "regions": Counter(dict(customers.values_list("region").annotate(n=Count("id")))),
        "moves": Counter(
            dict(
                TierChange.objects.filter(customer__in=customers, run__isnull=False)
                .values_list("kind")
                .annotate(n=Count("id"))
            )
        ),
    }


def _shown(user: Any) -> dict[str, Any]:
    d = tier_dashboard(user=user)
    moves: Counter[Any] = Counter()
    for point in d.trend:
        moves["up"] += point["up"]
        moves["down"] += point["down"]

    def key(row: dict[str, Any]) -> Any:
        return row["tier"].pk if row["tier"] else None

    return {
        "customers": {key(row): row["customers"] for row in d.tiers if row["customers"]},
        "revenue": {key(row): row["revenue"] for row in d.tiers if row["revenue"]},
        "regions": Counter({row["key"]: row["total"] for row in d.by_region}),
        "moves": moves,
    }


def test_every_role_sees_its_own_figures(
    rep1: Any, rep2: Any, outsider: Any, manager: Any, other_team: Any, admin_user: Any
) -> None:
    _buyer(rep1, 600_000, region="east")
    _buyer(rep2, 250_000, region="south")
    _buyer(outsider, 900_000, region="east")
    _buyer(manager, 300_000, region="north", team=other_team)  # the manager's own, in another team
    _buyer(rep1, 80_000, days_ago=400)  # ordered before the twelve months: no revenue counted
    services.tier_run_evaluate_now(actor=None, trigger=RunTrigger.COMMAND)
    _buyer(rep2, 50_000)  # after the evaluation: not graded

    for user in (admin_user, manager, rep1, outsider):
        expected, shown = _expected(user), _shown(user)
        assert shown["customers"] == expected["customers"], user
        assert shown["revenue"] == expected["revenue"], user
        assert shown["regions"] == expected["regions"], user
        assert shown["moves"]["up"] == expected["moves"]["initial"] + expected["moves"].get("upgrade", 0), user
    assert sum(_shown(manager)["customers"].values()) == 5  # the team's four and their own
    assert sum(_shown(rep1)["customers"].values()) == 2


def test_the_revenue_counts_this_month_and_the_eleven_before() -> None:
    assert twelve_months_since(dt.date(2026, 12, 7)) == dt.date(2026, 1, 1)
    assert twelve_months_since(dt.date(2026, 3, 31)) == dt.date(2025, 4, 1)
    assert twelve_months_since(dt.date(2026, 3, 31)) == dt.date(2026, 3, 1) - relativedelta(months=11)


@pytest.mark.parametrize("role", ["admin", "manager", "rep1"])
def test_the_dashboard_asks_as_often_whatever_the_book(
    role: Any, rep1: Any, manager: Any, admin_user: Any, client: Any
) -> None:
    user = {"admin": admin_user, "manager": manager, "rep1": rep1}[role]
    _buyer(rep1, 100_000)
    services.tier_run_evaluate_now(actor=None, trigger=RunTrigger.COMMAND)
    client.force_login(user)

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/tiers/").status_code == 200
        return len(ctx.captured_queries)

    few = queries()
    for n in range(5):
        _buyer(rep1, 100_000 * n + 1)
    services.tier_run_evaluate_now(actor=None, trigger=RunTrigger.COMMAND)
    assert queries() == few


def test_emptying_a_table_empties_its_figures(rep1: Any) -> None:
    _buyer(rep1, 100_000)
    services.tier_run_evaluate_now(actor=None, trigger=RunTrigger.COMMAND)
    assert all(_kept().values())
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the checks a TRUNCATE may not leave pending
        cursor.execute("TRUNCATE tiers_tierchange")
    assert not _kept()["moves"] and _kept()["count"] and _kept()["revenue"]
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE transactions_transaction CASCADE")
    assert not _kept()["revenue"] and _kept()["count"]
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE customers_customer CASCADE")
    assert _kept() == _counted() == {"count": Counter(), "revenue": Counter(), "moves": Counter()}
