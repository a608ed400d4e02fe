"""Scans that compare only the customers changed since the previous scan (the change log
written by database triggers, and the figures that moved with time) leave exactly what a
scan comparing every customer would: after each incremental scan, the full comparison
(the console's preview, read-only) finds nothing left to raise, re-grade or resolve.

A seeded random month of business drives it: orders placed (some back-dated and already
overdue), paid, part-paid, cancelled, moved to another customer and deleted; answers and
complaints; tiers and lifecycle stages changing; alerts closed by hand; days passing one
or several at a time.
"""

from __future__ import annotations

import datetime as dt
import io
import random
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection

from customers.models import Customer
from risk import engine, services
from risk.choices import ScanTrigger
from risk.models import RiskAlert, RiskChange, RiskRule, RiskScan, RiskScanStep
from tests.factories import (
    CustomerFactory,
    FeedbackFactory,
    ProductFactory,
    SatisfactionResponseFactory,
    TransactionFactory,
    tier,
)
from transactions.models import Transaction

# Each write and each rule of a scan commits on its own, as in production: the change log
# is only ever "read up to" a point across transactions.
COMMITTED = pytest.mark.django_db(transaction=True, serialized_rollback=True)

AS_OF = dt.datetime(2026, 6, 30, 4, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 6, 30)
TIERS = ("bronze", "silver", "gold", "platinum")


def _scan(as_of: dt.datetime, part_size: int = services.PART_SIZE) -> RiskScan:
    scan = services.risk_scan_start(
        actor=None, trigger=ScanTrigger.COMMAND, as_of=as_of, queue=False, part_size=part_size
    )
    return services.risk_scan_run(scan_id=scan.pk) or scan


def _left_over(as_of: dt.datetime) -> dict[str, tuple[int, int, int]]:
    """What a scan comparing every customer would still change, per rule (nothing, when
    the incremental scan did its job)."""
    left = {}
    for rule in RiskRule.objects.filter(enabled=True).prefetch_related("tiers"):
        preview = engine.preview_rule(rule=rule, tier_ids=[t.pk for t in rule.tiers.all()], as_of=as_of)
        if preview.raised or preview.reseverity or preview.resolved:
            left[rule.code] = (preview.raised, preview.reseverity, preview.resolved)
    return left


class Business:
    """A small book of customers and a random day of business on it."""

    def __init__(self, owner: Any, seed: int) -> None:
        self.rng = random.Random(seed)
        self.owner = owner
        self.products = [ProductFactory() for _ in range(3)]
        self.customers = [CustomerFactory(owner=owner, tier=tier(self.rng.choice(TIERS))) for _ in range(24)]
        for customer in self.customers:
            self._history(customer)

    def _order(self, customer: Any, today: dt.date, **kw: Any) -> Transaction:
        days_ago = kw.pop("days_ago", self.rng.randint(0, 200))
        order_date = today - dt.timedelta(days=days_ago)
        amount = Decimal(self.rng.choice(["800", "1000", "5000", "120", "30000"]))
        currency = self.rng.choice(["CNY", "CNY", "CNY", "USD", "JPY"])
        status = kw.pop("status", self.rng.choice(["pending", "shipped", "completed", "paid", "cancelled"]))
        paid = amount if status in ("paid", "completed") else Decimal(self.rng.choice(["0", "0", "200"]))
        return TransactionFactory(
            customer=customer, product=self.rng.choice(self.products), amount=amount, currency=currency,
            status=status, paid_amount=min(paid, amount), order_date=order_date,
            due_date=order_date + dt.timedelta(days=self.rng.choice([0, 15, 30, 60])), **kw,
        )  # fmt: skip

    def _history(self, customer: Any) -> None:
        rng = self.rng
        for _ in range(rng.randint(0, 6)):
            self._order(customer, TODAY)
        if rng.random() < 0.4:  # a steady rhythm, then silence
            gap, last = rng.choice([10, 20, 30]), rng.randint(20, 90)
            for n in range(4):
                self._order(customer, TODAY, days_ago=last + n * gap, status="completed")
        for _ in range(rng.randint(0, 4)):
            SatisfactionResponseFactory(
                customer=customer, csat=rng.randint(1, 5), nps=rng.choice([None, rng.randint(0, 10)]),
                responded_at=AS_OF - dt.timedelta(days=rng.randint(0, 400), hours=rng.randint(0, 23)),
            )  # fmt: skip
        for _ in range(rng.choice([0, 0, 2, 3])):
            FeedbackFactory(
                customer=customer, kind="complaint", received_at=AS_OF - dt.timedelta(days=rng.randint(0, 40))
            )

    def day(self, as_of: dt.datetime) -> None:
        """Some of everything that happens in a day, written the ways the product and
        other systems write (services, the ORM's bulk updates, deletes)."""
        rng, today = self.rng, as_of.date()
        orders = list(Transaction.objects.filter(customer__in=self.customers).order_by("pk"))
        for order in rng.sample(orders, min(3, len(orders))):
            change = rng.choice(["pay", "part", "cancel", "move", "delete", "due"])
            rows = Transaction.objects.filter(pk=order.pk)
            if change == "pay":
                rows.update(paid_amount=order.amount, status="paid")
            elif change == "part":
                rows.update(paid_amount=order.amount * Decimal("0.9"))
            elif change == "cancel":
                rows.update(status="cancelled")
            elif change == "move":
                rows.update(customer=rng.choice(self.customers))
            elif change == "delete":
                RiskAlert.objects.filter(transaction=order).update(transaction=None)
                rows.delete()
            else:
                rows.update(due_date=max(order.order_date, order.due_date + dt.timedelta(days=rng.choice([-20, 20]))))
        for customer in rng.sample(self.customers, 3):
            self._order(customer, today, days_ago=rng.choice([0, 1, 45, 95]))
        for customer in rng.sample(self.customers, 2):
            SatisfactionResponseFactory(customer=customer, csat=rng.randint(1, 3), responded_at=as_of)
        FeedbackFactory(customer=rng.choice(self.customers), kind="complaint", received_at=as_of)
        Customer.objects.filter(pk=rng.choice(self.customers).pk).update(tier=tier(rng.choice(TIERS)))
        if rng.random() < 0.3:
            Customer.objects.filter(pk=rng.choice(self.customers).pk).update(lifecycle_stage="churned")
        open_alerts = list(RiskAlert.objects.filter(status="open").order_by("pk")[:20])
        if open_alerts:  # someone works an alert the risk of which is still there
            alert = rng.choice(open_alerts)
            status = rng.choice(["resolved", "dismissed"])
            services.risk_alert_update(
                actor=self.owner, instance=alert, data={"status": status, "resolution_note": "已处理"},
                expected_version=alert.version,
            )  # fmt: skip


@COMMITTED
@pytest.mark.parametrize("part_size", [services.PART_SIZE, 5], ids=["one part", "parts of 5 customers"])
def test_incremental_scans_leave_what_a_full_comparison_would(
    rep1: Any, reference_risk_rules: None, reference_tiers: None, part_size: int
) -> None:
    """A month of business, each day's scan comparing only what changed, applied to every
    customer at once or in parts (orders move between customers of different parts)."""
    RiskRule.objects.get(code="cancellations-90").tiers.set([tier("gold"), tier("platinum")])
    business = Business(rep1, seed=20261127)
    as_of = AS_OF
    first = _scan(as_of, part_size)
    assert first.steps.filter(full=True).count() == first.steps.count()
    parts = first.steps.filter(rule__code="overdue-payment-30").count()
    assert parts == (1 if part_size == services.PART_SIZE else 5)
    assert _left_over(as_of) == {}
    last_full, incremental = as_of, 0
    for step in [1, 1, 1, 3, 1, 2, 1, 1, 5, 1, 1, 1]:
        as_of += dt.timedelta(days=step, hours=business.rng.randint(0, 5))
        business.day(as_of)
        scan = _scan(as_of, part_size)
        assert _left_over(as_of) == {}, (as_of, scan.summary)
        # Every customer is compared once a week.
        weekly = as_of - last_full >= engine.FULL_EVERY
        for code, full in scan.steps.values_list("rule__code", "full"):
            assert full == weekly, (as_of, code, full)
        last_full = as_of if weekly else last_full
        incremental += not weekly
    assert incremental >= 9
    changed = RiskScan.objects.filter(summary__raised__gt=0).count()
    resolved = RiskScan.objects.filter(summary__resolved__gt=0).count()
    assert changed >= 6 and resolved >= 6  # the month really moved alerts both ways


@COMMITTED
def test_time_alone_moves_exactly_what_a_full_comparison_would(
    rep1: Any, reference_risk_rules: None, reference_tiers: None
) -> None:
    """No writes at all: every change comes from days passing (debts ageing into a level,
    answers and complaints leaving their windows, orders leaving the cancellation window,
    future-dated orders and answers arriving)."""
    rng = random.Random(7)
    for _ in range(30):
        customer = CustomerFactory(owner=rep1)
        for _ in range(3):
            due = TODAY + dt.timedelta(days=rng.randint(-100, 40))
            TransactionFactory(
                customer=customer, amount=Decimal("5000"), paid_amount=Decimal("0"),
                status=rng.choice(["pending", "shipped", "cancelled", "completed"]),
                order_date=min(due, TODAY + dt.timedelta(days=rng.randint(-120, 5))), due_date=due,
            )  # fmt: skip
        for _ in range(rng.randint(1, 4)):
            SatisfactionResponseFactory(
                customer=customer, csat=rng.randint(1, 5), nps=None,
                responded_at=AS_OF + dt.timedelta(days=rng.randint(-470, 3), hours=rng.randint(0, 23)),
            )  # fmt: skip
        for _ in range(rng.randint(0, 4)):
            FeedbackFactory(
                customer=customer, kind="complaint", received_at=AS_OF + dt.timedelta(days=rng.randint(-45, 3))
            )
    # And one customer at each edge that random data may miss.
    leaving_baseline = CustomerFactory(owner=rep1)  # its good old answer leaves the baseline on day 5
    for days, csat in ((-450, 5), (-200, 3), (-10, 3)):
        SatisfactionResponseFactory(customer=leaving_baseline, csat=csat, nps=None,
                                    responded_at=AS_OF + dt.timedelta(days=days))  # fmt: skip
    arriving_answer = CustomerFactory(owner=rep1)  # a bad answer dated day 3 arrives then
    for days, csat in ((-200, 5), (3, 2)):
        SatisfactionResponseFactory(customer=arriving_answer, csat=csat, nps=None,
                                    responded_at=AS_OF + dt.timedelta(days=days))  # fmt: skip
    arriving_cancel = CustomerFactory(owner=rep1)  # its second cancellation is dated day 2
    for days in (-10, 2):
        TransactionFactory(customer=arriving_cancel, status="cancelled", order_date=TODAY + dt.timedelta(days=days),
                           due_date=TODAY + dt.timedelta(days=days))  # fmt: skip
    falling_silent = CustomerFactory(owner=rep1)  # ordered every 20 days, the last 50 days ago
    for days in (-90, -70, -50):
        TransactionFactory(customer=falling_silent, status="completed", order_date=TODAY + dt.timedelta(days=days),
                           due_date=TODAY + dt.timedelta(days=days))  # fmt: skip
    # Two rhythms whose gap rounds down (25 gaps over 501 and 876 days: 20.04 and 35.04
    # days, taken as 20.0 and 35.0): the silence reaches four times the rounded gap (high)
    # on day 25, twice it (the finding) on day 5, while still short of the exact multiple.
    rounded_down = {}
    for gap, silent_now in ((20, 55), (35, 65)):
        customer = rounded_down[gap] = CustomerFactory(owner=rep1)
        last = TODAY - dt.timedelta(days=silent_now)
        for k in range(26):  # 24 gaps of the rounded length and one a day longer
            day = last - dt.timedelta(days=gap * (25 - k) + (1 if k == 0 else 0))
            TransactionFactory(customer=customer, status="completed", order_date=day, due_date=day)
    as_of, last_full, checked = AS_OF, AS_OF, 0
    _scan(as_of)
    assert not RiskAlert.objects.filter(customer__in=rounded_down.values()).exists()
    assert RiskAlert.objects.filter(customer=leaving_baseline, status="open").exists()
    assert not RiskAlert.objects.filter(customer__in=[arriving_answer, arriving_cancel]).exists()
    moved = 0
    for _ in range(40):
        as_of += dt.timedelta(days=1)
        scan = _scan(as_of)
        assert _left_over(as_of) == {}, (as_of, scan.summary)
        if as_of - last_full >= engine.FULL_EVERY:
            last_full = as_of
            continue
        assert not scan.steps.get(rule__code="overdue-payment-30").full
        checked += 1
        moved += sum(counts.get("raised", 0) + counts.get("reseverity", 0) + counts.get("resolved", 0)
                     for counts in scan.summary["rules"].values())  # fmt: skip
    assert checked >= 30 and moved >= 40  # the incremental scans had real work to get right
    assert not RiskAlert.objects.filter(customer=leaving_baseline, status="open").exists()
    for customer in (arriving_answer, arriving_cancel):
        assert RiskAlert.objects.filter(customer=customer).exists()
    # Silent 60 days (3 times its gap) on day 10: medium; 80 days (4 times) on day 30: high.
    silence = RiskAlert.objects.get(customer=falling_silent, status="open")
    assert silence.severity == "high" and silence.explanation["severity_from"] == "medium"
    high = RiskAlert.objects.get(customer=rounded_down[20], status="open")
    assert high.severity == "high" and high.explanation["usual_gap_days"] == 20.0
    raised = RiskAlert.objects.get(customer=rounded_down[35], status="open")
    assert raised.explanation["usual_gap_days"] == 35.0 and raised.raised_at == AS_OF + dt.timedelta(days=5)


@COMMITTED
def test_a_scan_that_failed_half_way_is_passed_over(
    rep1: Any, reference_risk_rules: None, reference_tiers: None
) -> None:
    """The next scan compares what changed since the last scan that completed: the
    customers the failed one compared are compared again, which changes nothing."""
    customer = CustomerFactory(owner=rep1)
    _scan(AS_OF)
    order = TransactionFactory(
        customer=customer, amount=Decimal("5000"), paid_amount=Decimal("0"), status="pending",
        order_date=TODAY - dt.timedelta(days=40), due_date=TODAY - dt.timedelta(days=10),
    )  # fmt: skip
    failed = services.risk_scan_start(
        actor=None, trigger=ScanTrigger.COMMAND, as_of=AS_OF + dt.timedelta(days=1), queue=False
    )
    overdue_step = failed.steps.order_by("pk").first()
    assert overdue_step.rule.code == "overdue-payment-30"
    services.risk_step_run(step_id=overdue_step.pk)  # raises the alert, then its worker is lost
    services.risk_step_fail(step_id=failed.steps.order_by("pk").last().pk, error="worker lost")
    assert RiskAlert.objects.filter(transaction=order, status="open").exists()
    Transaction.objects.filter(pk=order.pk).update(status="paid", paid_amount=order.amount)
    scan = services.risk_scan_start(
        actor=None, trigger=ScanTrigger.COMMAND, as_of=AS_OF + dt.timedelta(days=2), queue=False
    )
    since = services._since(scan.steps.get(rule__code="overdue-payment-30"))
    assert since is not None and since.as_of == AS_OF  # the completed scan's, not the failed one's
    services.risk_scan_run(scan_id=scan.pk)
    assert scan.steps.get(rule__code="overdue-payment-30").full is False
    alert = RiskAlert.objects.get(transaction=order)
    assert alert.status == "resolved" and alert.explanation["cleared"] == "paid"
    assert _left_over(AS_OF + dt.timedelta(days=2)) == {}


@COMMITTED
def test_an_alert_closed_by_hand_comes_back_at_the_next_scan_if_the_risk_is_still_there(
    rep1: Any, reference_risk_rules: None, reference_tiers: None
) -> None:
    customer = CustomerFactory(owner=rep1)
    TransactionFactory(
        customer=customer, amount=Decimal("5000"), paid_amount=Decimal("0"), status="pending",
        order_date=TODAY - dt.timedelta(days=60), due_date=TODAY - dt.timedelta(days=30),
    )  # fmt: skip
    _scan(AS_OF)
    [alert] = RiskAlert.objects.filter(customer=customer, status="open")
    services.risk_alert_update(
        actor=rep1, instance=alert, data={"status": "resolved", "resolution_note": "客户说已付"},
        expected_version=alert.version,
    )  # fmt: skip
    scan = _scan(AS_OF + dt.timedelta(hours=1))
    assert scan.steps.get(rule__code="overdue-payment-30").full is False
    assert RiskAlert.objects.filter(customer=customer, status="open").count() == 1


@pytest.mark.django_db
def test_every_customer_is_compared_when_the_rule_changed_time_went_back_or_a_week_passed(rep1: Any) -> None:
    def full(scan: RiskScan) -> bool:
        return scan.steps.get(rule__code="overdue-payment-30").full

    assert full(_scan(AS_OF))  # the first time
    assert not full(_scan(AS_OF + dt.timedelta(days=1)))
    rule = RiskRule.objects.get(code="overdue-payment-30")
    services.risk_rule_update(
        actor=None, instance=rule, data={"params": {**rule.params, "days_overdue": 5}}, expected_version=None
    )
    assert full(_scan(AS_OF + dt.timedelta(days=2)))  # the rule changed
    RiskRule.objects.get(code="overdue-payment-30").tiers.set([tier("gold")])  # even without a new version
    assert full(_scan(AS_OF + dt.timedelta(days=3)))
    assert not full(_scan(AS_OF + dt.timedelta(days=4)))
    assert full(_scan(AS_OF + dt.timedelta(days=1)))  # back in time
    assert not full(_scan(AS_OF + dt.timedelta(days=2)))
    assert full(_scan(AS_OF + dt.timedelta(days=10)))  # a week after the last full comparison
    assert not full(_scan(AS_OF + dt.timedelta(days=11)))
    call_command("scan_risks", "--sync", "--full", stdout=io.StringIO())  # asked for
    assert full(RiskScan.objects.latest("pk"))


@pytest.mark.django_db
def test_the_change_log_names_what_the_triggers_saw_and_is_pruned_once_read(rep1: Any) -> None:
    customer, other = CustomerFactory(owner=rep1), CustomerFactory(owner=rep1)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_xact_id()::text::bigint")
        (txid,) = cursor.fetchone()
    order = TransactionFactory(customer=customer)
    Transaction.objects.filter(pk=order.pk).update(customer=other)  # both customers
    SatisfactionResponseFactory(customer=customer)
    Customer.objects.filter(pk=other.pk).update(notes="不影响风险")  # not a tier or stage: not logged
    Customer.objects.filter(pk=other.pk).update(lifecycle_stage="churned")
    logged = list(RiskChange.objects.filter(txid=txid).values_list("customer_id", flat=True))
    assert sorted(logged) == sorted([customer.pk, customer.pk, other.pk, customer.pk, other.pk])
    RiskChange.objects.create(customer_id=customer.pk, txid=1)  # read by every rule long ago
    _scan(AS_OF)
    assert not RiskChange.objects.filter(txid=1).exists()
    assert RiskChange.objects.filter(txid=txid).exists()  # this transaction is still running
    # The scan's own alert writes are not logged (raised, resolved, retired with their
    # rule); a person's are.
    TransactionFactory(
        customer=customer, amount=Decimal("5000"), paid_amount=Decimal("0"), status="pending",
        order_date=TODAY - dt.timedelta(days=60), due_date=TODAY - dt.timedelta(days=30),
    )  # fmt: skip
    _scan(AS_OF)
    assert RiskAlert.objects.filter(customer=customer, rule__code="overdue-payment-30", status="open").exists()
    before = RiskChange.objects.count()
    _scan(AS_OF + dt.timedelta(days=1))
    RiskRule.objects.filter(code="overdue-payment-30").update(enabled=False)
    retired = _scan(AS_OF + dt.timedelta(days=2))
    assert retired.summary["rules"]["overdue-payment-30"]["resolved"] >= 1
    assert RiskChange.objects.count() == before
    assert RiskScanStep.objects.filter(read_horizon__lte=txid).exists()
