"""A job's part that fails for good fails its job; a database hiccup is left to retry; a
part at work locks only its own row."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import OperationalError

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
