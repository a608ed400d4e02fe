"""A scan whose worker process is killed in the middle, on the real broker: the task comes
back (late acknowledgement, rejected on a lost worker), the rules already applied are
skipped, and in the end every alert exists exactly once and is told about once."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection, connections
from django.utils import timezone

from crm.accounts.models import Notification
from crm.celery import app
from risk import services
from risk.choices import ScanState, ScanTrigger
from risk.models import RiskAlert, RiskRule, RiskScan
from tests.factories import CustomerFactory, TransactionFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
ROOT = Path(__file__).resolve().parents[2]


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _wait(condition: Any, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def worker_process() -> Iterator[subprocess.Popen[bytes]]:
    """A real Celery worker (prefork, one child process) on a queue of this test's own,
    against the test database."""
    queue = f"risk-crash-{time.monotonic_ns()}"
    app.conf.task_default_queue = queue
    app.conf.task_routes = {"risk.*": {"queue": queue}}
    db = connection.settings_dict
    password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
    port = f":{db['PORT']}" if db.get("PORT") else ""
    # The host may be a socket directory (the embedded server): percent-encoded in the URL.
    host = quote(db.get("HOST") or "", safe="")
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{quote(db['USER'], safe='')}{password}@{host}{port}/{db['NAME']}",
        "REDIS_URL": settings.CELERY_BROKER_URL,
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        # What the worker queues itself (the telling after the scan) stays on this queue.
        "CELERY_QUEUE": queue,
    }
    command = [
        sys.executable, "-m", "celery", "-A", "crm", "worker", "--pool=prefork", "--concurrency=1", "-Q", queue,
        "--loglevel=WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    try:
        yield process
    finally:
        app.conf.task_routes = None
        app.conf.task_default_queue = "celery"
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def test_a_scan_killed_mid_way_finishes_once(
    reference_risk_rules: None, rep1: Any, worker_process: subprocess.Popen[bytes]
) -> None:
    rep1.email = "rep1@example.com"
    rep1.save()
    today = timezone.localdate()
    orders = []
    for days in (5, 40, 70, 100):
        customer = CustomerFactory(owner=rep1)
        orders.append(
            TransactionFactory(
                customer=customer, amount=Decimal("9000"), order_date=today - dt.timedelta(days=days + 30),
                due_date=today - dt.timedelta(days=days), status="pending",
            )
        )  # fmt: skip
    # Hold the step handed out last (the overdue rule goes first) so the scan stops there,
    # after the overdue rule has raised and committed its alerts.
    held = RiskRule.objects.exclude(kind="overdue_payment").order_by("pk").last()
    assert held is not None
    scan = services.risk_scan_start(actor=None, trigger=ScanTrigger.MANUAL, queue=False)
    last = scan.steps.order_by("pk").last()
    assert last is not None and last.rule == held
    holder = connections.create_connection("default")
    holder.set_autocommit(False)
    with holder.cursor() as cursor:
        cursor.execute("SELECT id FROM risk_riskscanstep WHERE id = %s FOR UPDATE", [last.pk])
    try:
        services.queue_steps(scan_id=scan.pk)
        _wait(lambda: scan.steps.filter(done=True).count() == 4, "the first four rules")
        assert RiskAlert.objects.filter(rule__code="overdue-payment-30").count() == 4
        children = _children(worker_process.pid)
        assert len(children) == 1, children
        os.kill(children[0], signal.SIGKILL)  # the worker process dies mid-scan
        _wait(lambda: _children(worker_process.pid) not in ([], children), "a new worker process")
    finally:
        holder.rollback()  # let the retried task through
        holder.close()
    _wait(lambda: RiskScan.objects.get(pk=scan.pk).state in (ScanState.DONE, ScanState.FAILED), "the scan to end")
    scan.refresh_from_db()
    assert scan.state == ScanState.DONE, scan.error
    assert scan.steps.filter(done=True).count() == 5
    # Each overdue order has one alert, raised once (the summary counts it once too).
    alerts = RiskAlert.objects.filter(rule__code="overdue-payment-30")
    assert sorted(alerts.values_list("transaction_id", flat=True)) == sorted(o.pk for o in orders)
    assert scan.summary["rules"]["overdue-payment-30"]["raised"] == 4
    # The two urgent ones (70 and 100 days) were told about in one message, once.
    _wait(lambda: Notification.objects.filter(user=rep1).exists(), "the notification")
    time.sleep(1)
    assert Notification.objects.filter(user=rep1).count() == 1
    assert alerts.filter(severity__in=["high", "critical"], notified_at__isnull=False).count() == 2
