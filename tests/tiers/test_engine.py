"""The tier and lifecycle engine against hand-computed figures.

The default policy (v1): spend 40 points at ¥500,000 over 365 days, orders 20 points at
24, tenure 15 points at 5 years, influence 15 points at 10, satisfaction 10 points at
CSAT 5 (CSAT 1 earns nothing).  Thresholds: bronze 0, silver 40, gold 60, platinum 75,
diamond 90.  Grace 90 days; churned after 365 days without an order; key from platinum.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from crm.accounts.models import Notification
from customers.models import Customer
from tests import server_settings
from tests.factories import CustomerFactory, SatisfactionResponseFactory, TransactionFactory, tier
from tiers import engine, services
from tiers.choices import RunState, RunTrigger
from tiers.models import LifecycleChange, ScoringPolicy, TierChange, TierRun
from tiers.tasks import evaluate_tiers_if_due

pytestmark = pytest.mark.django_db

AS_OF = dt.datetime(2026, 6, 30, 4, 0, tzinfo=dt.UTC)  # noon in Shanghai


def _run(as_of: dt.datetime = AS_OF) -> TierRun:
    return services.tier_run_evaluate_now(actor=None, trigger=RunTrigger.COMMAND, as_of=as_of)


def _customer(
    owner: Any,
    *,
    spend: int = 0,
    orders: int = 0,
    years: float = 0,
    influence: int = 0,
    csat: int | None = None,
    stage: str = "active",
    **extra: Any,
) -> Customer:
    since = (AS_OF - dt.timedelta(days=round(years * 365.25))).date()
    customer = CustomerFactory(
        owner=owner, customer_since=since, influence_score=influence, lifecycle_stage=stage, **extra
    )
    for n in range(orders):
        TransactionFactory(
            customer=customer,
            amount=Decimal(spend) / orders,
            status="completed",
            order_date=AS_OF.date() - dt.timedelta(days=10 + n),
        )
    if csat is not None:
        SatisfactionResponseFactory(customer=customer, csat=csat, nps=None, responded_at=AS_OF - dt.timedelta(days=5))
    return customer


def test_score_and_grade_match_the_hand_computation(rep1: Any) -> None:
    # spend 250k → 20; 12 orders → 10; 2.5 years → 7.5; influence 6 → 9; CSAT 4 → 7.5: 54 points → silver.
    customer = _customer(rep1, spend=250_000, orders=12, years=2.5, influence=6, csat=4)
    run = _run()
    customer.refresh_from_db()
    assert customer.tier == tier("silver") and customer.tier_score == Decimal("54.00")
    change = TierChange.objects.get(customer=customer)
    assert change.kind == "initial" and change.run == run and change.policy.version == 1
    points = change.explanation["points"]
    assert {k: Decimal(str(v)) for k, v in points.items()} == {
        "spend": Decimal("20.00"),
        "orders": Decimal("10.00"),
        "tenure": Decimal("7.50"),
        "influence": Decimal("9.00"),
        "satisfaction": Decimal("7.50"),
    }
    assert change.explanation["threshold"] == 40 and change.explanation["metrics"]["orders"] == 12
    assert run.state == RunState.DONE and run.summary["graded"] == 1


def test_caps_limit_each_metric(rep1: Any) -> None:
    whale = _customer(rep1, spend=5_000_000, orders=60, years=20, influence=10, csat=5)
    _run()
    whale.refresh_from_db()
    assert whale.tier_score == Decimal("100.00") and whale.tier == tier("diamond")


def test_upgrades_apply_at_once_and_downgrades_wait_for_the_grace(rep1: Any) -> None:
    customer = _customer(rep1, spend=250_000, orders=12, years=2.5, influence=6, csat=4)  # 54: silver
    Customer.objects.filter(pk=customer.pk).update(tier=tier("gold"))  # graded gold last time
    _run()
    customer.refresh_from_db()
    assert customer.tier == tier("gold") and customer.tier_below_since == AS_OF  # in grace
    _run(AS_OF + dt.timedelta(days=30))
    customer.refresh_from_db()
    assert customer.tier == tier("gold")  # still within the 90 days
    # Orders age out of the window too, so the score keeps falling: after the grace it drops.
    later = AS_OF + dt.timedelta(days=91)
    _run(later)
    customer.refresh_from_db()
    assert customer.tier.rank < tier("gold").rank and customer.tier_below_since is None
    assert TierChange.objects.filter(customer=customer, kind="downgrade").count() == 1

    riser = _customer(rep1, spend=500_000, orders=24, years=5, influence=10, csat=5)
    Customer.objects.filter(pk=riser.pk).update(tier=tier("silver"))
    _run(later)
    riser.refresh_from_db()
    assert riser.tier == tier("diamond")


def test_back_above_the_threshold_ends_the_grace(rep1: Any) -> None:
    customer = _customer(rep1, spend=250_000, orders=12, years=2.5, influence=6, csat=4)
    Customer.objects.filter(pk=customer.pk).update(tier=tier("gold"))
    _run()
    Customer.objects.filter(pk=customer.pk).update(influence_score=10)  # +6 points: 60, gold again
    _run(AS_OF + dt.timedelta(days=1))
    customer.refresh_from_db()
    assert customer.tier == tier("gold") and customer.tier_below_since is None


def test_an_override_holds_until_it_expires(rep1: Any, manager: Any) -> None:
    customer = _customer(rep1, spend=10_000, orders=1, years=1)
    _run()
    customer.refresh_from_db()
    assert customer.tier == tier("bronze")
    until = timezone.now() + dt.timedelta(days=30)
    services.tier_override(actor=manager, customer=customer, tier=tier("platinum"), reason="战略客户", until=until)
    run = _run(timezone.now())
    customer.refresh_from_db()
    assert customer.tier == tier("platinum") and run.summary["overridden"] == 1
    _run(until + dt.timedelta(days=1))
    customer.refresh_from_db()
    assert customer.tier == tier("bronze") and customer.tier_override_until is None
    assert TierChange.objects.filter(customer=customer).order_by("-id").first().kind == "override_expired"


def test_lifecycle_moves_with_their_reasons(rep1: Any) -> None:
    prospect = _customer(rep1, spend=1000, orders=1, stage="prospect")
    sleeper = CustomerFactory(owner=rep1, lifecycle_stage="active", customer_since=dt.date(2020, 1, 1))
    TransactionFactory(customer=sleeper, status="completed", order_date=AS_OF.date() - dt.timedelta(days=400))
    returning = CustomerFactory(owner=rep1, lifecycle_stage="churned", customer_since=dt.date(2020, 1, 1))
    TransactionFactory(customer=returning, status="completed", order_date=AS_OF.date() - dt.timedelta(days=3))
    star = _customer(rep1, spend=500_000, orders=24, years=5, influence=10, csat=5)  # diamond ≥ platinum
    _run()
    stages = dict(Customer.objects.values_list("pk", "lifecycle_stage"))
    assert stages[prospect.pk] == "active" and stages[sleeper.pk] == "churned"
    assert stages[returning.pk] == "won_back" and stages[star.pk] == "key"
    reasons = dict(LifecycleChange.objects.values_list("customer_id", "reason"))
    assert reasons[prospect.pk].startswith("first_paid_order") and reasons[sleeper.pk].startswith("no_order_since")
    assert (
        reasons[returning.pk].startswith("new_order")
        and reasons[star.pk] == f"tier_reached_key:{AS_OF.date() - dt.timedelta(days=10)}"
    )


def test_the_same_evaluation_twice_changes_nothing_the_second_time(rep1: Any) -> None:
    for n in range(5):
        _customer(rep1, spend=50_000 * n, orders=n, years=n, influence=n, stage="prospect")
    first = _run()
    history = TierChange.objects.count(), LifecycleChange.objects.count()
    versions = list(Customer.objects.order_by("pk").values_list("version", flat=True))
    second = _run()
    assert second.summary["rows_written"] == 0 and second.summary["tier_changes"] == 0
    assert (TierChange.objects.count(), LifecycleChange.objects.count()) == history
    assert list(Customer.objects.order_by("pk").values_list("version", flat=True)) == versions
    assert first.summary["evaluated"] == second.summary["evaluated"] == 5


def test_a_retried_chunk_is_evaluated_once(rep1: Any) -> None:
    for _ in range(3):
        _customer(rep1, spend=100_000, orders=3, years=1)
    run = services.tier_run_start(actor=None, trigger=RunTrigger.MANUAL, as_of=AS_OF, chunk_size=2, queue=False)
    chunks = list(run.chunks.order_by("number").values_list("pk", flat=True))
    assert len(chunks) >= 2
    assert services.tier_run_evaluate_chunk(chunk_id=chunks[0]) is True
    assert services.tier_run_evaluate_chunk(chunk_id=chunks[0]) is False  # redelivered: nothing twice
    for pk in chunks[1:]:
        services.tier_run_evaluate_chunk(chunk_id=pk)
    run.refresh_from_db()
    assert run.state == RunState.DONE and run.chunks_done == len(chunks)
    assert run.summary["evaluated"] == 3 and TierChange.objects.count() == 3


def test_only_one_run_at_a_time(rep1: Any) -> None:
    _customer(rep1)
    first = services.tier_run_start(actor=None, trigger=RunTrigger.MANUAL, queue=False)
    again = services.tier_run_start(actor=None, trigger=RunTrigger.MANUAL, queue=False)
    assert again.pk == first.pk


def test_owners_are_told_once_in_app_and_by_mail(rep1: Any, django_capture_on_commit_callbacks: Any) -> None:
    up = _customer(rep1, spend=500_000, orders=24, years=5, influence=10, csat=5)
    Customer.objects.filter(pk=up.pk).update(tier=tier("bronze"))
    with django_capture_on_commit_callbacks(execute=True):
        run = _run()
    note = Notification.objects.get(user=rep1)
    assert "1" in note.title and note.link.startswith("/tiers/")
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [rep1.email]
    from tiers.notifications import notify_tier_moves

    assert notify_tier_moves(run_id=run.pk) == 0 and len(mail.outbox) == 1


def test_a_workers_closing_chunk_queues_the_telling_as_a_task_of_its_own(
    rep1: Any, django_capture_on_commit_callbacks: Any, tasks_run_here: list[str]
) -> None:
    up = _customer(rep1, spend=500_000, orders=24, years=5, influence=10, csat=5)
    Customer.objects.filter(pk=up.pk).update(tier=tier("bronze"))
    run = services.tier_run_start(actor=None, trigger=RunTrigger.MANUAL, as_of=AS_OF, queue=False)
    with django_capture_on_commit_callbacks() as callbacks:
        for chunk_id in run.chunks.values_list("pk", flat=True):
            services.tier_run_evaluate_chunk(chunk_id=chunk_id, on_worker=True)
    run.refresh_from_db()
    # The run is done before anyone is told: the telling waits for its task.
    assert run.state == RunState.DONE and len(callbacks) == 1
    assert not Notification.objects.filter(user=rep1).exists() and not mail.outbox
    with django_capture_on_commit_callbacks(execute=True):
        callbacks[0]()
    assert tasks_run_here == ["tiers.tell_moves"]
    assert Notification.objects.filter(user=rep1).count() == 1 and len(mail.outbox) == 1


def test_the_schedule_starts_a_run_only_when_due(rep1: Any) -> None:
    _customer(rep1, spend=1000, orders=1)
    first = evaluate_tiers_if_due()  # never evaluated: due now
    assert first is not None
    services.tier_run_evaluate_chunk(chunk_id=TierRun.objects.get(pk=first).chunks.get().pk)
    assert evaluate_tiers_if_due() is None  # next one is a quarter away
    TierRun.objects.filter(pk=first).update(as_of=timezone.now() - dt.timedelta(days=100))
    assert evaluate_tiers_if_due() is not None


def test_policy_versions_are_validated_and_kept(admin_user: Any) -> None:
    from crm.core.errors import DomainError

    with pytest.raises(DomainError):
        services.scoring_policy_save(actor=admin_user, data={"spend_weight": 50})  # weights add up to 110
    with pytest.raises(DomainError):
        services.scoring_policy_save(actor=admin_user, data={"thresholds": {"bronze": 0, "silver": 70, "gold": 60}})
    new = services.scoring_policy_save(
        actor=admin_user, data={"spend_weight": 30, "orders_weight": 30}, note="更看重购买频次"
    )
    assert new.version == 2 and new.is_active
    assert ScoringPolicy.objects.get(version=1).is_active is False


def test_the_command_prints_the_summary(rep1: Any, capsys: Any) -> None:
    _customer(rep1, spend=1000, orders=1)
    from io import StringIO

    out = StringIO()
    call_command("evaluate_tiers", "--sync", stdout=out)
    assert "done" in out.getvalue() and "evaluated" in out.getvalue()


def test_the_command_can_run_only_once(rep1: Any) -> None:
    from io import StringIO

    _customer(rep1, spend=1000, orders=1)
    call_command("evaluate_tiers", "--sync", "--if-never", stdout=StringIO())
    out = StringIO()
    call_command("evaluate_tiers", "--sync", "--if-never", stdout=out)
    assert "nothing to do" in out.getvalue() and TierRun.objects.count() == 1


def test_lifecycle_reasons_read_in_words(rep1: Any) -> None:
    from django.utils import translation

    sleeper = CustomerFactory(owner=rep1, lifecycle_stage="active", customer_since=dt.date(2020, 1, 1))
    last = AS_OF.date() - dt.timedelta(days=400)
    TransactionFactory(customer=sleeper, status="completed", order_date=last)
    _run()
    change = LifecycleChange.objects.get(customer=sleeper)
    with translation.override("en"):
        assert change.reason_text == f"no order since {last.isoformat()}"
        assert (change.get_from_stage_display(), change.get_to_stage_display()) == ("Active", "Churned")


def test_the_candidate_condition_misses_no_change(rep1: Any) -> None:
    """The evaluation decides only for customers that pass a cheap "may change" condition;
    in every state a customer can be in, it must keep exactly the rows the full decision keeps."""
    import itertools

    from django.db import connection

    from tiers import engine

    # Customers with paid, unpaid, recent, old and no orders, at several scores.
    base = []
    for count, ago, status, years, influence in [
        (0, 0, "completed", 0, 0), (1, 5, "completed", 1, 5), (1, 5, "pending", 6, 0),
        (2, 500, "completed", 6, 10), (24, 5, "completed", 6, 10), (6, 100, "completed", 2, 5),
    ]:  # fmt: skip
        customer = _customer(rep1, years=years, influence=influence)
        for n in range(count):
            TransactionFactory(
                customer=customer,
                amount=Decimal(25_000),
                status=status,
                order_date=AS_OF.date() - dt.timedelta(days=ago + n),
            )
        base.append(customer.pk)
    policy = ScoringPolicy.objects.get(is_active=True)
    params = engine.parameters(policy=policy, as_of=AS_OF, first_id=0, last_id=2**62, run_id=None)
    every_row = engine.statement(only_changes=False)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, computed_tier FROM ({every_row}) r", params)
        graded = dict(cursor.fetchall())
    other = {pk: tier("bronze").pk if graded[pk] != tier("bronze").pk else tier("gold").pk for pk in base}
    states = itertools.product(
        ["prospect", "active", "key", "at_risk", "churned", "won_back"],
        ["as graded", "other", "none"],
        [None, AS_OF - dt.timedelta(days=1), AS_OF + dt.timedelta(days=10)],
        [None, AS_OF - dt.timedelta(days=10), AS_OF - dt.timedelta(days=200)],
    )
    kept_any = 0
    for stage, held, override, below in states:
        for pk in base:
            held_tier = {"as graded": graded[pk], "other": other[pk], "none": None}[held]
            Customer.objects.filter(pk=pk).update(
                lifecycle_stage=stage, tier_id=held_tier, tier_override_until=override, tier_below_since=below
            )
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT id FROM ({engine.statement()}) r", params)
            kept = {row[0] for row in cursor.fetchall()}
            cursor.execute(
                f"SELECT id FROM ({every_row}) r WHERE decision <> 'unchanged' OR new_stage <> lifecycle_stage "
                "OR new_below_since IS DISTINCT FROM tier_below_since "
                "OR new_override_until IS DISTINCT FROM tier_override_until",
                params,
            )
            changing = {row[0] for row in cursor.fetchall()}
        assert kept == changing, (stage, held, override, below)
        kept_any += len(kept)
    assert 0 < kept_any < 162 * len(base)


def test_a_workers_chunk_keeps_its_statements_in_its_own_process(rep1: Any) -> None:
    """As a scan's steps (crm.core.jobs.part_settings): no parallel query on a worker."""
    _customer(rep1, spend=500_000, orders=24, years=5, influence=10, csat=5)
    default = server_settings.current()
    run = services.tier_run_start(actor=None, trigger=RunTrigger.MANUAL, as_of=AS_OF, queue=False)
    chunks = list(run.chunks.values_list("pk", flat=True))

    def on_workers() -> None:
        for chunk_id in chunks:
            services.tier_run_evaluate_chunk(chunk_id=chunk_id, on_worker=True)

    evaluation = "CREATE TEMPORARY TABLE tier_eval"
    assert server_settings.during(evaluation, on_workers) == ["0"] * len(chunks)
    assert server_settings.during(evaluation, lambda: _run(AS_OF + dt.timedelta(days=1))) == [default] * len(chunks)
    assert default != "0" and server_settings.current() == default


def test_the_preview_decides_as_a_run_would(rep1: Any) -> None:
    """An override holds, a score below the tier waits out the grace, an older one drops:
    the preview counts and moves exactly what the run then writes."""
    now = timezone.now()
    held = _customer(rep1, spend=10_000, orders=1, years=1)  # bronze by its score
    Customer.objects.filter(pk=held.pk).update(tier=tier("platinum"), tier_override_until=now + dt.timedelta(days=30))
    waiting = _customer(rep1, spend=250_000, orders=12, years=2.5, influence=6, csat=4)  # silver by its score
    Customer.objects.filter(pk=waiting.pk).update(tier=tier("gold"))
    falling = _customer(rep1, spend=250_000, orders=12, years=2.5, influence=6, csat=4)
    Customer.objects.filter(pk=falling.pk).update(tier=tier("gold"), tier_below_since=now - dt.timedelta(days=100))

    seen = engine.preview(policy=ScoringPolicy.objects.get(is_active=True))
    assert (seen.overridden, seen.in_grace, seen.down) == (1, 1, 1), seen
    previewed = sorted((held.code if held else None, to.code if to else None, n) for held, to, n in seen.moves)

    run = _run(now)
    written: dict[tuple[str | None, str | None], int] = {}
    for change in TierChange.objects.filter(changed_at=run.as_of).select_related("from_tier", "to_tier"):
        key = (change.from_tier.code if change.from_tier else None, change.to_tier.code if change.to_tier else None)
        written[key] = written.get(key, 0) + 1
    assert previewed == sorted((held, to, n) for (held, to), n in written.items())
    assert ("gold", "silver", 1) in previewed and not any(held == "platinum" for held, _to, _n in previewed)
