"""A tier run whose worker dies, on the real broker, at each boundary of its work: inside
a chunk, between a chunk's commit and its acknowledgement, after the last chunk before
the run is closed, while it is closed, between closing and queueing the telling, and
while telling.  Each time a worker comes back (the dead one's waiting tasks go to it),
the beat's rescue runs, and the broker's visibility timeout passes (the tasks the dead
worker held come back); the run ends done, each customer's move recorded once, its owner
told once.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db.models import Max, Min

from crm.accounts.models import Notification
from customers.models import Customer
from tests.crash_worker import CrashLab, wait_for
from tests.factories import CustomerFactory, TransactionFactory, UserFactory, tier
from tiers import services
from tiers.choices import ChangeKind, RunState, RunTrigger
from tiers.models import TierChange, TierRun

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

CHUNKS = 3
CLOSING = 'UPDATE "tiers_tierrun" SET "state" = %s, "finished_at"'
POINTS = {
    "inside-a-chunk": 'sql-before:UPDATE "tiers_tierrunchunk" SET "done"',
    "before-a-chunks-ack": "postrun:tiers.evaluate_chunk",
    "before-closing": f"sql-before:{CLOSING}@{CHUNKS}",
    "while-closing": f"sql-after:{CLOSING}",
    "before-queueing-the-telling": "publish:tiers.tell_moves",
    "while-telling": 'sql-before:INSERT INTO "accounts_notification"',
}


def _movers() -> tuple[Any, list[int]]:
    """A new owner with three bronze customers who spent enough to move up."""
    owner = UserFactory()
    customers = [CustomerFactory(owner=owner, tier=tier("bronze")) for _ in range(3)]
    for customer in customers:
        TransactionFactory(customer=customer, amount=Decimal("600000"), status="completed")
    return owner, [customer.pk for customer in customers]


def test_a_run_finishes_once_wherever_its_worker_dies(reference_tiers: None) -> None:
    with CrashLab(POINTS) as lab:
        for name in POINTS:
            owner, movers = _movers()
            ids = Customer.objects.aggregate(low=Min("id"), high=Max("id"))
            size = -(-(ids["high"] - ids["low"] + 1) // CHUNKS)
            with lab.dying(name):
                run = services.tier_run_start(actor=None, trigger=RunTrigger.MANUAL, chunk_size=size)
            assert run.chunk_count == CHUNKS
            services.tier_run_rescue(silent_for=dt.timedelta(0))  # as beat does once a job falls silent
            # The run ends without waiting for the tasks the dead worker held.
            done = TierRun.objects.filter(pk=run.pk, state=RunState.DONE)
            wait_for(done.exists, f"the run ({name})")
            lab.visibility_timeout_passes(name)
            lab.settled()
            run.refresh_from_db()
            assert run.chunks_done == CHUNKS and not run.chunks.filter(done=False).exists(), name
            moves = TierChange.objects.filter(run=run)
            assert sorted(moves.values_list("customer_id", flat=True)) == sorted(movers), name  # each once
            assert set(moves.values_list("kind", flat=True)) == {ChangeKind.UPGRADE}, name
            assert run.summary["upgraded"] == 3, name  # no chunk evaluated twice
            # The telling that the dead worker held comes back after the visibility
            # timeout; on a loaded machine it may land just after the queue looked
            # settled, so wait for it, then check it told the owner once.
            told = Notification.objects.filter(user=owner)
            wait_for(told.exists, f"the owner told ({name})")
            lab.settled()
            assert told.count() == 1, name
