"""A job's part that fails for good fails its job; a database hiccup is left to retry; a
part at work locks only its own row; a job whose worker died between any two of its
statements still finishes, closed once and followed up once."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import OperationalError

from crm.core.jobs import PART_TASK_OPTIONS
from risk import services as risk_services
from risk.choices import ScanState, ScanTrigger
from risk.tasks import run_risk_step
from tiers import services as tier_services
from tiers.choices import RunState, RunTrigger
from tiers.tasks import evaluate_tier_chunk

pytestmark = pytest.mark.django_db


def test_a_rule_that_fails_for_good_fails_its_scan(monkeypatch: Any) -> None:
    scan = risk_services.risk_scan_start(actor=None, trigger=ScanTrigger.MANUAL, queue=False)
    step = scan.steps.first()

    def broken(**_: Any) -> bool:
        raise ValueError("boom")

    monkeypatch.setattr(risk_services, "risk_step_run", broken)
    with pytest.raises(ValueError):
        run_risk_step.apply(args=[step.pk], throw=True)
    scan.refresh_from_db()
    assert scan.state == ScanState.FAILED and f"step {step.pk}" in scan.error and "boom" in scan.error


def test_a_database_hiccup_is_retried_not_failed(monkeypatch: Any, reference_tiers: None) -> None:
    from crm.core.jobs import run_part

    failures: list[str] = []

    def hiccup() -> bool:
        raise OperationalError("server closed the connection")

    task = SimpleNamespace(request=SimpleNamespace(retries=0), max_retries=5)
    with pytest.raises(OperationalError):
        run_part(task, hiccup, failures.append, "chunk 1")
    assert failures == []
    task.request.retries = 5  # the last retry: now the job fails
    with pytest.raises(OperationalError):
        run_part(task, hiccup, failures.append, "chunk 1")
    assert failures and failures[0].startswith("chunk 1: OperationalError")


def test_a_chunk_that_fails_for_good_fails_its_run(monkeypatch: Any, reference_tiers: None) -> None:
    from customers.models import Customer
    from tests.factories import CustomerFactory

    CustomerFactory()
    assert Customer.objects.exists()
    run = tier_services.tier_run_start(actor=None, trigger=RunTrigger.MANUAL, queue=False)
    chunk = run.chunks.first()

    def broken(**_: Any) -> bool:
        raise ValueError("bad chunk")

    monkeypatch.setattr(tier_services, "tier_run_evaluate_chunk", broken)
    with pytest.raises(ValueError):
        evaluate_tier_chunk.apply(args=[chunk.pk], throw=True)
    run.refresh_from_db()
    assert run.state == RunState.FAILED and "bad chunk" in run.error


def _other_connection_may_lock(table: str, pk: int) -> bool:
    """Whether another worker (a connection of its own) could lock this row right now."""
    import threading

    from django.db import OperationalError as Locked
    from django.db import connections

    result: list[bool] = []

    def probe() -> None:
        try:
            with connections["default"].cursor() as cursor:
                cursor.execute(f"SELECT id FROM {table} WHERE id = %s FOR UPDATE NOWAIT", [pk])  # noqa: S608
            result.append(True)
        except Locked:
            result.append(False)
        finally:
            connections.close_all()

    thread = threading.Thread(target=probe)
    thread.start()
    thread.join()
    return result[0]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_part_at_work_locks_only_its_own_row_so_the_other_workers_go_on(
    reference_tiers: None, reference_risk_rules: None
) -> None:
    """Each worker locks the part it works on; were the job's row (or the rule's, the
    policy's) locked with it, every other worker's part would wait for this one."""
    from django.db import connection

    from tests.factories import CustomerFactory

    CustomerFactory()
    scan = risk_services.risk_scan_start(actor=None, trigger=ScanTrigger.MANUAL, queue=False)
    run = tier_services.tier_run_start(actor=None, trigger=RunTrigger.MANUAL, queue=False)
    step, chunk = scan.steps.select_related("rule").first(), run.chunks.first()
    seen: dict[str, bool] = {}

    def right_after_the_part_is_locked(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        result = execute(sql, params, many, context)
        locks = re.search(r" FOR (NO KEY )?UPDATE", sql) is not None
        if locks and "risk_riskscanstep" in sql.split("FROM")[1][:30]:
            seen["scan"] = _other_connection_may_lock("risk_riskscan", scan.pk)
            seen["rule"] = _other_connection_may_lock("risk_riskrule", step.rule_id)
        if locks and "tiers_tierrunchunk" in sql.split("FROM")[1][:30]:
            seen["run"] = _other_connection_may_lock("tiers_tierrun", run.pk)
            seen["policy"] = _other_connection_may_lock("tiers_scoringpolicy", run.policy_id)
        return result

    with connection.execute_wrapper(right_after_the_part_is_locked):
        assert risk_services.risk_step_run(step_id=step.pk)
        assert tier_services.tier_run_evaluate_chunk(chunk_id=chunk.pk)
    assert seen == {"scan": True, "rule": True, "run": True, "policy": True}


# ------------------------------------------------------------------ a job always finishes
# A worker can die between any two statements of a job.  These tests build the state each
# such death leaves behind and check that what comes next (the beat's rescue, a later
# start, the task's redelivery) finishes the job, doing nothing twice.


def _owed(owner: Any) -> None:
    """A customer of ``owner`` with an order 70 days late: a high alert, to be told."""
    import datetime as dt
    from decimal import Decimal

    from django.utils import timezone

    from tests.factories import CustomerFactory, TransactionFactory

    today = timezone.localdate()
    TransactionFactory(
        customer=CustomerFactory(owner=owner), amount=Decimal("9000"), status="pending",
        order_date=today - dt.timedelta(days=100), due_date=today - dt.timedelta(days=70),
    )  # fmt: skip


def _moving(owner: Any) -> None:
    """A bronze customer of ``owner`` who spent enough to move up: its owner is told."""
    from decimal import Decimal

    from tests.factories import CustomerFactory, TransactionFactory, tier

    TransactionFactory(
        customer=CustomerFactory(owner=owner, tier=tier("bronze")), amount=Decimal("600000"), status="completed"
    )


def _long_silent(job: Any) -> None:
    """Nothing has happened to ``job`` for an hour: it started, and its parts finished, then."""
    import datetime as dt

    from django.utils import timezone

    hour_ago = timezone.now() - dt.timedelta(hours=1)
    type(job).objects.filter(pk=job.pk).update(created_at=hour_ago, started_at=hour_ago)
    parts = job.steps if hasattr(job, "steps") else job.chunks
    parts.update(finished_at=hour_ago)


def _scan_with_every_step_done(rep: Any) -> Any:
    """A scan whose worker died once its last step had committed, before closing the scan."""
    from risk.models import RiskScan

    _owed(rep)
    scan = risk_services.risk_scan_start(actor=None, trigger=ScanTrigger.MANUAL, queue=False)
    for step_id in scan.steps.values_list("pk", flat=True):
        risk_services._apply_step(step_id=step_id)
    RiskScan.objects.filter(pk=scan.pk).update(state=ScanState.RUNNING)
    _long_silent(scan)
    return scan


def _run_with_every_chunk_done(rep: Any, django_capture_on_commit_callbacks: Any) -> Any:
    """A run whose worker died once its last chunk had committed, before closing the run
    (its follow-up lost with it)."""
    from tiers.models import TierRun

    _moving(rep)
    run = tier_services.tier_run_start(actor=None, trigger=RunTrigger.MANUAL, queue=False)
    with django_capture_on_commit_callbacks(execute=False):
        for chunk_id in run.chunks.values_list("pk", flat=True):
            tier_services.tier_run_evaluate_chunk(chunk_id=chunk_id, on_worker=True)
    TierRun.objects.filter(pk=run.pk).update(state=RunState.RUNNING, finished_at=None, summary={})
    _long_silent(run)
    return run


def test_the_beats_rescue_closes_a_scan_whose_steps_are_all_done(
    reference_risk_rules: None, rep1: Any, django_capture_on_commit_callbacks: Any, tasks_run_here: list[str]
) -> None:
    from crm.accounts.models import Notification
    from risk.tasks import scan_risks_if_due

    scan = _scan_with_every_step_done(rep1)
    with django_capture_on_commit_callbacks(execute=True):
        scan_risks_if_due()
    scan.refresh_from_db()
    assert scan.state == ScanState.DONE and scan.summary["raised"] == 1
    assert Notification.objects.filter(user=rep1).count() == 1  # told once the scan closed


def test_the_beats_rescue_closes_a_run_whose_chunks_are_all_done(
    reference_tiers: None, rep1: Any, django_capture_on_commit_callbacks: Any, tasks_run_here: list[str]
) -> None:
    from crm.accounts.models import Notification
    from tiers.tasks import evaluate_tiers_if_due

    run = _run_with_every_chunk_done(rep1, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        evaluate_tiers_if_due()
    run.refresh_from_db()
    assert run.state == RunState.DONE and run.summary["upgraded"] == 1
    assert Notification.objects.filter(user=rep1).count() == 1


def test_a_new_scan_starts_when_the_one_in_the_way_has_every_step_done(
    reference_risk_rules: None, rep1: Any, django_capture_on_commit_callbacks: Any, tasks_run_here: list[str]
) -> None:
    from crm.accounts.models import Notification

    stuck = _scan_with_every_step_done(rep1)
    with django_capture_on_commit_callbacks(execute=True):
        scan = risk_services.risk_scan_start(actor=None, trigger=ScanTrigger.MANUAL, queue=False)
    stuck.refresh_from_db()
    assert scan.pk != stuck.pk and stuck.state == ScanState.DONE and stuck.summary["raised"] == 1
    assert Notification.objects.filter(user=rep1).count() == 1


def test_a_new_run_starts_when_the_one_in_the_way_has_every_chunk_done(
    reference_tiers: None, rep1: Any, django_capture_on_commit_callbacks: Any, tasks_run_here: list[str]
) -> None:
    stuck = _run_with_every_chunk_done(rep1, django_capture_on_commit_callbacks)
    run = tier_services.tier_run_start(actor=None, trigger=RunTrigger.MANUAL, queue=False)
    stuck.refresh_from_db()
    assert run.pk != stuck.pk and stuck.state == RunState.DONE and stuck.summary["upgraded"] == 1


def test_a_redelivered_closing_step_queues_the_follow_up_its_first_delivery_lost(
    reference_risk_rules: None, rep1: Any, django_capture_on_commit_callbacks: Any, tasks_run_here: list[str]
) -> None:
    """The worker died once the scan was closed, before it queued the telling: the
    task's message comes back (it was never acknowledged) and queues it; telling twice
    tells no one twice."""
    from crm.accounts.models import Notification

    _owed(rep1)
    scan = risk_services.risk_scan_start(actor=None, trigger=ScanTrigger.MANUAL, queue=False)
    steps = list(scan.steps.order_by("pk").values_list("pk", flat=True))
    with django_capture_on_commit_callbacks(execute=False) as lost:
        for step_id in steps:
            run_risk_step.apply(args=[step_id])
    scan.refresh_from_db()
    assert scan.state == ScanState.DONE and len(lost) == 1 and tasks_run_here.count("risk.tell_after_scan") == 0
    for _redelivered in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            run_risk_step.apply(args=[steps[-1]])
    assert Notification.objects.filter(user=rep1).count() == 1


def test_a_redelivered_closing_chunk_queues_the_follow_up_its_first_delivery_lost(
    reference_tiers: None, rep1: Any, django_capture_on_commit_callbacks: Any, tasks_run_here: list[str]
) -> None:
    from crm.accounts.models import Notification

    _moving(rep1)
    run = tier_services.tier_run_start(actor=None, trigger=RunTrigger.MANUAL, queue=False)
    chunks = list(run.chunks.order_by("pk").values_list("pk", flat=True))
    with django_capture_on_commit_callbacks(execute=False) as lost:
        for chunk_id in chunks:
            evaluate_tier_chunk.apply(args=[chunk_id])
    run.refresh_from_db()
    assert run.state == RunState.DONE and len(lost) == 1
    for _redelivered in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            evaluate_tier_chunk.apply(args=[chunks[-1]])
    assert Notification.objects.filter(user=rep1).count() == 1


def test_a_task_whose_worker_died_comes_back_within_minutes() -> None:
    """Redis hands an unacknowledged task out again only after the visibility timeout: it
    must be minutes, not hours, yet longer than a task may run (or a task still running
    would be handed out twice), retries' waits included; and the beat's checks, which
    rescue a job whose parts went silent, run every minute or so."""
    from django.conf import settings

    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    longest_retry_wait = 2 ** (PART_TASK_OPTIONS["max_retries"] - 1)
    assert settings.CELERY_TASK_SOFT_TIME_LIMIT < settings.CELERY_TASK_TIME_LIMIT
    assert settings.CELERY_TASK_TIME_LIMIT + longest_retry_wait < visibility <= 15 * 60
    checks = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert checks["risk.scan_if_due"] <= 60 and checks["tiers.evaluate_if_due"] <= 60


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_that_close_a_job_at_once_close_it_once_and_notify_once(reference_risk_rules: None, rep1: Any) -> None:
    """The last step's task and the beat's rescue (say) find the scan's steps all done at
    the same moment: one closes it, the other waits for the row, then finds it closed;
    the summary, the audit event and the telling happen once."""
    import threading

    from django.db import connection, connections

    from crm.accounts.models import Notification
    from crm.audit.models import AuditEvent
    from crm.core.jobs import job_close

    scan = _scan_with_every_step_done(rep1)
    closed: dict[str, bool] = {}
    first_holds_the_row, let_the_first_commit = threading.Event(), threading.Event()

    def pause_once_closed(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        result = execute(sql, params, many, context)
        if sql.startswith('UPDATE "risk_riskscan" SET "state"') and context["cursor"].rowcount == 1:
            first_holds_the_row.set()
            let_the_first_commit.wait(10)
        return result

    def close(who: str, pause: bool) -> None:
        try:
            if pause:
                with connections["default"].execute_wrapper(pause_once_closed):
                    closed[who] = job_close(risk_services.SCAN_JOB, job_id=scan.pk)
            else:
                closed[who] = job_close(risk_services.SCAN_JOB, job_id=scan.pk)
        finally:
            connections.close_all()

    first = threading.Thread(target=close, args=("first", True))
    first.start()
    assert first_holds_the_row.wait(10)
    second = threading.Thread(target=close, args=("second", False))
    second.start()

    def second_waits() -> bool:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                ' AND query LIKE \'UPDATE "risk_riskscan" SET "state"%%\''
            )
            return bool(cursor.fetchone()[0])

    from tests.crash_worker import wait_for

    wait_for(second_waits, "the second to wait for the scan's row", seconds=10)
    let_the_first_commit.set()
    first.join(10)
    second.join(10)
    assert closed == {"first": True, "second": False}
    scan.refresh_from_db()
    assert scan.state == ScanState.DONE and scan.summary["raised"] == 1
    assert AuditEvent.objects.filter(resource="risk.riskscan").count() == 1
    assert Notification.objects.filter(user=rep1).count() == 1
