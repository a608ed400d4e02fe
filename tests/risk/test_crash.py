"""A scan whose worker dies, on the real broker, at each boundary of its work: inside a
step, between a step's commit and its acknowledgement, after the last step before the
scan is closed, while it is closed, between closing and queueing the telling, and while
telling.  Each time a worker comes back (the dead one's waiting tasks go to it), the
beat's rescue runs, and the broker's visibility timeout passes (the tasks the dead worker
held come back); the scan ends done, each alert raised once, its urgent alerts told once.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from crm.accounts.models import Notification
from risk import services
from risk.choices import ScanState, ScanTrigger
from risk.models import RiskAlert, RiskRule, RiskScan
from tests.crash_worker import CrashLab, wait_for
from tests.factories import CustomerFactory, TransactionFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

CLOSING = 'UPDATE "risk_riskscan" SET "state" = %s, "finished_at"'


def _points(steps: int) -> dict[str, str]:
    """Where each worker dies, by the boundary it stands for (``steps``: how many steps a
    scan has, the last of which closes it)."""
    return {
        "inside-a-step": 'sql-before:UPDATE "risk_riskscanstep" SET "done"',
        "before-a-steps-ack": "postrun:risk.run_step",
        "before-closing": f"sql-before:{CLOSING}@{steps}",
        "while-closing": f"sql-after:{CLOSING}",
        "before-queueing-the-telling": "publish:risk.tell_after_scan",
        "while-telling": 'sql-before:INSERT INTO "accounts_notification"',
    }


def _overdue_orders() -> tuple[Any, list[int]]:
    """A new owner with four orders 5, 40, 70 and 100 days late: four alerts, two urgent."""
    owner = UserFactory()
    today = timezone.localdate()
    orders = [
        TransactionFactory(
            customer=CustomerFactory(owner=owner), amount=Decimal("9000"), status="pending",
            order_date=today - dt.timedelta(days=days + 30), due_date=today - dt.timedelta(days=days),
        ).pk
        for days in (5, 40, 70, 100)
    ]  # fmt: skip
    return owner, orders


def test_a_scan_finishes_once_wherever_its_worker_dies(reference_risk_rules: None) -> None:
    steps = RiskRule.objects.count()  # one step each: the customers fit in one part
    points = _points(steps)
    with CrashLab(points) as lab:
        for name in points:
            owner, orders = _overdue_orders()
            with lab.dying(name):
                scan = services.risk_scan_start(actor=None, trigger=ScanTrigger.MANUAL)
            assert scan.steps.count() == steps
            services.risk_scan_rescue(silent_for=dt.timedelta(0))  # as beat does once a job falls silent
            # The scan ends without waiting for the tasks the dead worker held.
            done = RiskScan.objects.filter(pk=scan.pk, state=ScanState.DONE)
            wait_for(done.exists, f"the scan ({name})")
            lab.visibility_timeout_passes(name)
            lab.settled()
            scan.refresh_from_db()
            assert not scan.steps.filter(done=False).exists(), name
            alerts = RiskAlert.objects.filter(customer__owner=owner, rule__code="overdue-payment-30")
            assert sorted(alerts.values_list("transaction_id", flat=True)) == sorted(orders), name
            assert scan.summary["rules"]["overdue-payment-30"]["raised"] == 4, name  # no step applied twice
            # The two urgent alerts (70 and 100 days late), told in one message, once.
            assert Notification.objects.filter(user=owner).count() == 1, name
            assert alerts.filter(severity__in=["high", "critical"], notified_at__isnull=False).count() == 2, name
