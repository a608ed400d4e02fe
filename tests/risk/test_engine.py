"""The risk scan's rules at their exact boundaries, de-duplication, re-grading and
auto-resolve, against the default rules (migration risk.0004):

- overdue payment: from 1 day past due, at least ¥1,000 outstanding (USD 150, JPY 20,000);
  low from 1 day, medium from 31, high from 61, critical from 91;
- cancellations: 2 in 90 days, or 30% of at least 3 orders; an order placed again within
  7 days does not count; medium from 2, high from 4;
- satisfaction drop: CSAT down 1 point (or NPS 3) on the customer's own past year;
- inactivity: 60 days and twice the usual gap, with 3 orders; complaint spike: 3 in 30 days.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command

from risk import engine, services
from risk.choices import ScanState, ScanTrigger
from risk.models import RiskAlert, RiskRule, RiskScan, RiskSettings
from risk.selectors import scan_due
from tests.factories import (
    CustomerFactory,
    FeedbackFactory,
    ProductFactory,
    RiskAlertFactory,
    SatisfactionResponseFactory,
    TransactionFactory,
    tier,
)

pytestmark = pytest.mark.django_db

AS_OF = dt.datetime(2026, 6, 30, 4, 0, tzinfo=dt.UTC)  # noon in Shanghai
TODAY = dt.date(2026, 6, 30)


def _apply(code: str, as_of: dt.datetime = AS_OF) -> dict[str, int]:
    return engine.apply_rule(rule=RiskRule.objects.get(code=code), as_of=as_of, scan_id=None)


def _scan(as_of: dt.datetime = AS_OF) -> RiskScan:
    return services.risk_scan_now(actor=None, trigger=ScanTrigger.COMMAND, as_of=as_of)


def _owed(customer: Any, *, days: int, amount: str = "5000", paid: str = "0", currency: str = "CNY", **kw: Any) -> Any:
    return TransactionFactory(
        customer=customer,
        amount=Decimal(amount),
        paid_amount=Decimal(paid),
        currency=currency,
        order_date=TODAY - dt.timedelta(days=days + 30),
        due_date=TODAY - dt.timedelta(days=days),
        status=kw.pop("status", "pending"),
        **kw,
    )


def _open(customer: Any, code: str) -> list[RiskAlert]:
    return list(RiskAlert.objects.filter(customer=customer, rule__code=code, status__in=["open", "acknowledged"]))


def test_overdue_days_and_severity_at_each_boundary(rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    orders = {days: _owed(customer, days=days) for days in (0, 1, 30, 31, 60, 61, 90, 91)}
    counts = _scan().summary["rules"]["overdue-payment-30"]
    assert counts["raised"] == 7
    by_order = {a.transaction_id: a for a in _open(customer, "overdue-payment-30")}
    assert orders[0].pk not in by_order  # due today: not late yet
    expected = {1: "low", 30: "low", 31: "medium", 60: "medium", 61: "high", 90: "high", 91: "critical"}
    assert {days: by_order[orders[days].pk].severity for days in expected} == expected
    alert = by_order[orders[61].pk]
    facts = alert.explanation
    assert facts["days_overdue"] == 61 and Decimal(str(facts["outstanding"])) == Decimal("5000.00")
    # The order's own figures, read for the alerts written (the comparison carries none).
    assert facts["order_id"] == orders[61].pk and facts["reference"] == (orders[61].external_ref or None)
    assert [facts["order_date"], facts["due_date"]] == [str(TODAY - dt.timedelta(days=d)) for d in (91, 61)]
    assert (Decimal(str(facts["amount"])), Decimal(str(facts["paid"])), facts["currency"]) == (5000, 0, "CNY")
    assert facts["min_days"] == 1 and Decimal(str(facts["min_amount"])) == 1000
    assert alert.subject == f"order:{orders[61].pk}" and alert.assignee == rep1 and alert.scan is not None
    # The alert keeps no copy of its rule's words: it shows them in the reader's language.
    assert alert.title == "" and alert.recommended_action == ""
    assert alert.display_action.startswith("1. 当天致电") and alert.display_title.startswith("回款逾期")
    assert alert.due_at == AS_OF + dt.timedelta(hours=24)  # high: a day to act


def test_overdue_amount_thresholds_per_currency_and_partial_payments(rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    at = _owed(customer, days=5, amount="3000", paid="2000")  # ¥1,000 outstanding: exactly the threshold
    under = _owed(customer, days=5, amount="3000", paid="2000.01")  # ¥999.99
    usd_at = _owed(customer, days=5, amount="150", currency="USD")
    usd_under = _owed(customer, days=5, amount="149.99", currency="USD")
    jpy_under = _owed(customer, days=5, amount="19999", currency="JPY")
    eur = _owed(customer, days=5, amount="200", currency="EUR")
    paid = _owed(customer, days=5, amount="3000", paid="3000")
    shipped = _owed(customer, days=5, status="shipped")
    completed = _owed(customer, days=5, status="completed")
    _apply("overdue-payment-30")
    alerted = {a.transaction_id for a in _open(customer, "overdue-payment-30")}
    assert alerted == {at.pk, usd_at.pk, eur.pk, shipped.pk}
    assert not alerted & {under.pk, usd_under.pk, jpy_under.pk, paid.pk, completed.pk}


def test_a_second_scan_raises_nothing_new_and_regrades_what_aged(rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    order = _owed(customer, days=30, amount="8000", paid="2500", currency="CNY", external_ref="SO-30")
    first = _scan()
    assert first.state == ScanState.DONE and first.summary["raised"] >= 1
    again = _scan()
    assert again.summary["rules"]["overdue-payment-30"] == {"raised": 0, "reseverity": 0, "resolved": 0}
    [alert] = _open(customer, "overdue-payment-30")
    assert alert.severity == "low"
    later = _scan(AS_OF + dt.timedelta(days=1))  # 31 days: medium
    assert later.summary["rules"]["overdue-payment-30"]["reseverity"] == 1
    alert.refresh_from_db()
    assert alert.severity == "medium" and alert.explanation["severity_from"] == "low"
    assert alert.explanation["days_overdue"] == 31 and alert.transaction == order
    assert alert.explanation["reference"] == "SO-30" and Decimal(str(alert.explanation["outstanding"])) == 5500
    assert alert.explanation["due_date"] == str(TODAY - dt.timedelta(days=30))
    assert RiskAlert.objects.filter(customer=customer).count() == 1


def test_an_alert_resolves_itself_when_its_condition_clears(rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    paid_later = _owed(customer, days=40)
    cancelled_later = _owed(customer, days=40)
    partly_paid = _owed(customer, days=40, amount="5000")
    _scan()
    assert len(_open(customer, "overdue-payment-30")) == 3
    manual = RiskAlertFactory(customer=customer, rule=RiskRule.objects.get(code="overdue-payment-30"), subject="手工")
    type(paid_later).objects.filter(pk=paid_later.pk).update(paid_amount=Decimal("5000"), status="paid")
    type(cancelled_later).objects.filter(pk=cancelled_later.pk).update(status="cancelled")
    type(partly_paid).objects.filter(pk=partly_paid.pk).update(paid_amount=Decimal("4500"))  # ¥500 left
    scan = _scan(AS_OF + dt.timedelta(days=1))
    assert scan.summary["rules"]["overdue-payment-30"]["resolved"] == 3
    reasons = dict(
        RiskAlert.objects.filter(customer=customer, auto_resolved=True).values_list(
            "transaction_id", "explanation__cleared"
        )
    )
    assert reasons == {paid_later.pk: "paid", cancelled_later.pk: "order_cancelled", partly_paid.pk: "below_threshold"}
    assert RiskAlert.objects.get(pk=manual.pk).status == "open"  # raised by hand, closed by hand
    # The risk returns: a new alert, the resolved one stays resolved.
    type(partly_paid).objects.filter(pk=partly_paid.pk).update(paid_amount=Decimal("0"))
    _scan(AS_OF + dt.timedelta(days=2))
    assert RiskAlert.objects.filter(transaction=partly_paid).values_list("status", flat=True).count() == 2


def test_cancellations_count_rate_window_and_reorders(rep1: Any) -> None:
    product = ProductFactory()
    two = CustomerFactory(owner=rep1)
    for days in (10, 89):
        TransactionFactory(customer=two, status="cancelled", order_date=TODAY - dt.timedelta(days=days))
    edge = CustomerFactory(owner=rep1)  # the second cancellation is 90 days old: outside the window
    for days in (10, 90):
        TransactionFactory(customer=edge, status="cancelled", order_date=TODAY - dt.timedelta(days=days))
    for n in range(4):  # and four good orders keep its rate under 30%
        TransactionFactory(customer=edge, status="completed", order_date=TODAY - dt.timedelta(days=20 + n))
    reordered = CustomerFactory(owner=rep1)  # cancelled, then placed again within 7 days: a correction
    for days in (30, 60):
        TransactionFactory(
            customer=reordered, product=product, status="cancelled", order_date=TODAY - dt.timedelta(days=days)
        )
        TransactionFactory(
            customer=reordered, product=product, status="completed", order_date=TODAY - dt.timedelta(days=days - 7)
        )
    rate = CustomerFactory(owner=rep1)  # one of three orders: 33% of the window's orders
    TransactionFactory(customer=rate, status="cancelled", order_date=TODAY - dt.timedelta(days=5))
    for days in (15, 25):
        TransactionFactory(customer=rate, status="completed", order_date=TODAY - dt.timedelta(days=days))
    low_rate = CustomerFactory(owner=rep1)  # one of four: 25%
    TransactionFactory(customer=low_rate, status="cancelled", order_date=TODAY - dt.timedelta(days=5))
    for days in (15, 25, 35):
        TransactionFactory(customer=low_rate, status="completed", order_date=TODAY - dt.timedelta(days=days))
    _apply("cancellations-90")
    flagged = set(RiskAlert.objects.filter(rule__code="cancellations-90").values_list("customer_id", flat=True))
    assert flagged == {two.pk, rate.pk}
    [alert] = _open(two, "cancellations-90")
    assert alert.severity == "medium" and alert.explanation["cancelled"] == 2 and alert.explanation["orders"] == 2
    [by_rate] = _open(rate, "cancellations-90")
    assert Decimal(str(by_rate.explanation["rate"])) == Decimal("0.333") and by_rate.severity == "medium"


def test_satisfaction_drop_against_the_customers_own_past(rep1: Any) -> None:
    def answers(customer: Any, past: list[int], recent: list[int], nps: int | None = None) -> None:
        for csat in past:
            SatisfactionResponseFactory(
                customer=customer, csat=csat, nps=nps, responded_at=AS_OF - dt.timedelta(days=200)
            )
        for csat in recent:
            SatisfactionResponseFactory(
                customer=customer, csat=csat, nps=nps, responded_at=AS_OF - dt.timedelta(days=10)
            )

    one_point = CustomerFactory(owner=rep1)
    answers(one_point, [5, 5], [4])  # exactly 1 point: medium
    two_points = CustomerFactory(owner=rep1)
    answers(two_points, [5], [3])  # 2 points: high
    small = CustomerFactory(owner=rep1)
    answers(small, [5, 4], [4])  # 0.5
    no_past = CustomerFactory(owner=rep1)
    answers(no_past, [], [1])
    nps_only = CustomerFactory(owner=rep1)
    SatisfactionResponseFactory(customer=nps_only, csat=None, nps=9, responded_at=AS_OF - dt.timedelta(days=200))
    SatisfactionResponseFactory(customer=nps_only, csat=None, nps=6, responded_at=AS_OF - dt.timedelta(days=10))
    _apply("satisfaction-drop")
    severities = dict(RiskAlert.objects.filter(rule__code="satisfaction-drop").values_list("customer_id", "severity"))
    assert severities == {one_point.pk: "medium", two_points.pk: "high"}
    # NPS has no CSAT count to stand on here: the CSAT answers are required (min_responses).
    [alert] = _open(two_points, "satisfaction-drop")
    assert Decimal(str(alert.explanation["baseline_csat"])) == 5 and Decimal(str(alert.explanation["recent_csat"])) == 3


def test_satisfaction_windows_at_their_exact_edges(rep1: Any) -> None:
    """The recent window is (as of − 90 days, as of]; the baseline the 365 days before it,
    (as of − 455 days, as of − 90 days]: an answer at an edge belongs to one side only."""
    window_start, baseline_start = AS_OF - dt.timedelta(days=90), AS_OF - dt.timedelta(days=455)
    edges = CustomerFactory(owner=rep1)
    SatisfactionResponseFactory(customer=edges, csat=1, nps=None, responded_at=baseline_start)  # too old
    SatisfactionResponseFactory(customer=edges, csat=5, nps=None, responded_at=window_start)  # the baseline
    SatisfactionResponseFactory(customer=edges, csat=3, nps=None, responded_at=AS_OF)  # recent
    later = CustomerFactory(owner=rep1)  # the same answers a moment later: the edges move
    SatisfactionResponseFactory(customer=later, csat=1, nps=None, responded_at=baseline_start + dt.timedelta(seconds=1))
    SatisfactionResponseFactory(customer=later, csat=5, nps=None, responded_at=window_start + dt.timedelta(seconds=1))
    SatisfactionResponseFactory(customer=later, csat=3, nps=None, responded_at=AS_OF)
    _apply("satisfaction-drop")
    [alert] = _open(edges, "satisfaction-drop")
    facts = alert.explanation
    assert (Decimal(str(facts["baseline_csat"])), facts["baseline_responses"]) == (5, 1)
    assert (Decimal(str(facts["recent_csat"])), facts["recent_responses"]) == (3, 1)
    assert alert.severity == "high" and dt.datetime.fromisoformat(facts["last_answer"]) == AS_OF
    # Baseline 1 (the old answer now inside it), recent (5 + 3) / 2 = 4: no drop at all.
    assert _open(later, "satisfaction-drop") == []


def test_inactivity_against_the_customers_own_rhythm(rep1: Any) -> None:
    def rhythm(customer: Any, last: int, gap: int = 30, orders: int = 4) -> None:
        for n in range(orders):
            TransactionFactory(
                customer=customer, status="completed", order_date=TODAY - dt.timedelta(days=last + n * gap)
            )

    silent = CustomerFactory(owner=rep1)
    rhythm(silent, last=60)  # 60 days: the minimum, and twice its 30-day gap
    recent = CustomerFactory(owner=rep1)
    rhythm(recent, last=59)
    slow = CustomerFactory(owner=rep1)
    rhythm(slow, last=100, gap=60)  # 100 < 2 × 60
    long_gone = CustomerFactory(owner=rep1, lifecycle_stage="churned")
    rhythm(long_gone, last=300)
    too_few = CustomerFactory(owner=rep1)
    rhythm(too_few, last=200, orders=2)
    very_silent = CustomerFactory(owner=rep1)
    rhythm(very_silent, last=125)  # over 4 × 30: high
    _apply("inactivity")
    severities = dict(RiskAlert.objects.filter(rule__code="inactivity").values_list("customer_id", "severity"))
    assert severities == {silent.pk: "medium", very_silent.pk: "high"}
    [alert] = _open(silent, "inactivity")
    assert alert.explanation["days_silent"] == 60 and Decimal(str(alert.explanation["usual_gap_days"])) == 30


def test_complaint_spike(rep1: Any) -> None:
    def complaints(customer: Any, n: int, days: int = 5) -> None:
        for _ in range(n):
            FeedbackFactory(customer=customer, kind="complaint", received_at=AS_OF - dt.timedelta(days=days))

    three, two, five, old = (CustomerFactory(owner=rep1) for _ in range(4))
    complaints(three, 3)
    complaints(two, 2)
    FeedbackFactory(customer=two, kind="praise", received_at=AS_OF - dt.timedelta(days=1))
    complaints(five, 5)
    complaints(old, 3, days=31)
    _apply("complaint-spike")
    severities = dict(RiskAlert.objects.filter(rule__code="complaint-spike").values_list("customer_id", "severity"))
    assert severities == {three.pk: "high", five.pk: "critical"}


def test_an_order_moved_to_another_customer_moves_its_alert(rep1: Any) -> None:
    first, second = CustomerFactory(owner=rep1), CustomerFactory(owner=rep1)
    order = _owed(first, days=40)
    _scan()
    [before] = _open(first, "overdue-payment-30")
    type(order).objects.filter(pk=order.pk).update(customer=second)
    counts = _scan(AS_OF + dt.timedelta(days=1)).summary["rules"]["overdue-payment-30"]
    assert counts == {"raised": 1, "reseverity": 0, "resolved": 1}
    before.refresh_from_db()
    assert before.status == "resolved" and before.explanation["cleared"] == "order_moved"
    [after] = _open(second, "overdue-payment-30")
    assert after.transaction == order and after.subject == before.subject


def test_a_rule_limited_to_tiers_and_a_rule_switched_off(rep1: Any) -> None:
    gold = CustomerFactory(owner=rep1, tier=tier("gold"))
    bronze = CustomerFactory(owner=rep1, tier=tier("bronze"))
    for customer in (gold, bronze):
        _owed(customer, days=10)
    rule = RiskRule.objects.get(code="overdue-payment-30")
    rule.tiers.set([tier("gold"), tier("platinum")])
    _scan()
    assert _open(gold, rule.code) and not _open(bronze, rule.code)
    RiskRule.objects.filter(pk=rule.pk).update(enabled=False)
    scan = _scan(AS_OF + dt.timedelta(days=1))
    assert scan.summary["rules"][rule.code] == {"resolved": 1} and not _open(gold, rule.code)
    assert RiskAlert.objects.get(customer=gold).explanation["cleared"] == "rule_disabled"


def test_the_sla_comes_from_the_settings(rep1: Any) -> None:
    settings_row = RiskSettings.current()
    settings_row.sla_hours = {"low": 12}
    settings_row.save()
    customer = CustomerFactory(owner=rep1)
    _owed(customer, days=3)
    _apply("overdue-payment-30")
    [alert] = _open(customer, "overdue-payment-30")
    assert alert.severity == "low" and alert.due_at == AS_OF + dt.timedelta(hours=12)


def test_a_retried_scan_applies_each_rule_once(rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    _owed(customer, days=10)
    scan = services.risk_scan_start(actor=None, trigger=ScanTrigger.MANUAL, as_of=AS_OF, queue=False)
    assert services.risk_scan_start(actor=None, trigger=ScanTrigger.MANUAL, queue=False) == scan  # one at a time
    first_step = scan.steps.order_by("pk").first()
    services._apply_step(step_id=first_step.pk)  # the worker died after the first rule ...
    services.risk_scan_run(scan_id=scan.pk)  # ... and the task ran again
    services.risk_scan_run(scan_id=scan.pk)  # and once more, after the scan closed
    scan.refresh_from_db()
    assert scan.state == ScanState.DONE and scan.summary["raised"] == 1
    assert RiskAlert.objects.filter(customer=customer).count() == 1


def test_the_daily_scan_is_due_once_its_time_has_passed(rep1: Any) -> None:
    settings_row = RiskSettings.current()
    settings_row.scan_time = dt.time(6, 30)
    settings_row.save()
    morning = dt.datetime(2026, 6, 30, 6, 29, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert not scan_due(morning)
    assert scan_due(morning + dt.timedelta(minutes=1))
    RiskScan.objects.create(trigger=ScanTrigger.SCHEDULE, as_of=morning, state=ScanState.DONE)
    RiskScan.objects.filter(trigger=ScanTrigger.SCHEDULE).update(created_at=morning + dt.timedelta(minutes=2))
    assert not scan_due(morning + dt.timedelta(minutes=3))
    assert scan_due(morning + dt.timedelta(days=1, minutes=1))


def test_the_command_prints_each_rules_figures(rep1: Any, capsys: Any) -> None:
    _owed(CustomerFactory(owner=rep1), days=10)
    call_command("scan_risks", "--sync")
    out = capsys.readouterr().out
    assert "done" in out and "overdue-payment-30" in out and "raised 1" in out


def test_a_scan_that_lost_its_tasks_is_handed_out_again(rep1: Any, django_capture_on_commit_callbacks: Any) -> None:
    from risk.tasks import scan_risks_if_due

    scan = services.risk_scan_start(actor=None, trigger=ScanTrigger.SCHEDULE, queue=False)
    services._apply_step(step_id=scan.steps.order_by("pk").first().pk)
    RiskScan.objects.filter(pk=scan.pk).update(created_at=AS_OF - dt.timedelta(hours=2))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert scan_risks_if_due() == scan.pk
    assert len(callbacks) == 1  # one hand-out of the four rules not done
    assert RiskScan.objects.count() == 1


def test_the_command_can_run_only_once(rep1: Any, capsys: Any) -> None:
    call_command("scan_risks", "--sync", "--if-never")
    call_command("scan_risks", "--sync", "--if-never")
    assert RiskScan.objects.count() == 1 and "nothing to do" in capsys.readouterr().out
