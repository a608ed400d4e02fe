"""A job's part that fails for good fails its job; a database hiccup is left to retry."""

from __future__ import annotations

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
