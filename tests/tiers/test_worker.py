"""A large run shared by real Celery workers (threads of an in-process worker, on the
same Redis broker as production), then checked for completeness and no duplicates."""

from __future__ import annotations

import time
from typing import Any

import pytest
from celery.contrib.testing.worker import start_worker

from crm.celery import app
from tests.factories import CustomerFactory, TransactionFactory
from tiers import services
from tiers.choices import RunState, RunTrigger
from tiers.models import TierChange, TierRun

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def worker() -> Any:
    # A queue of this test's own, so that nothing else on the broker is consumed.  (Not
    # ``task_routes``: the app keeps the first routes it reads for the whole process.)
    queue = f"tiers-test-{time.monotonic_ns()}"
    app.conf.task_default_queue = queue
    with start_worker(app, pool="threads", concurrency=3, perform_ping_check=False, queues=[queue], loglevel="WARNING"):
        yield
    app.conf.task_default_queue = "celery"


def test_workers_share_the_chunks_of_a_run(reference_tiers: None, rep1: Any, worker: Any) -> None:
    customers = [CustomerFactory(owner=rep1) for _ in range(12)]
    for customer in customers[:6]:
        TransactionFactory(customer=customer, status="completed")
    run = services.tier_run_start(actor=None, trigger=RunTrigger.MANUAL, chunk_size=3)
    assert run.chunk_count >= 4
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.state in (RunState.DONE, RunState.FAILED):
            break
        time.sleep(0.2)
    assert run.state == RunState.DONE, run.error
    assert run.summary["evaluated"] == 12 and run.chunks.filter(done=True).count() == run.chunk_count
    assert TierChange.objects.filter(run=run).count() == 12  # one first grade each, none twice
    assert TierRun.objects.filter(state__in=["queued", "running"]).count() == 0
