"""Risk scan time at scale, against the bare SQL that selects the same overdue orders.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench python bench/risk.py

Needs a database loaded with seed_demo.  The floor is one SQL statement that selects every
overdue order the default overdue rule flags (open, past due, unpaid for at least the
rule's amount in its currency) and reads what an alert shows of it — no rule, no customer,
no write.  The figures: a full scan (every enabled rule, one after the other, as
``scan_risks --sync`` does) from no alerts at all (it raises every one), then the steady
state (nothing new, nothing to resolve) three times in turn with the floor, medians: the
rules one after the other, the rules shared by as many workers as the machine has cores
(one task per rule, as the Celery workers run a scan), and the overdue rule alone.  The
target: a full scan at most 1.5× the floor.
"""

from __future__ import annotations

import os
import statistics
import time

from _setup import django_setup, line


def main() -> None:
    # The scan tells assignees about urgent alerts; a benchmark keeps the e-mails in memory.
    os.environ["DJANGO_EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    django_setup()
    from django.db import connection, transaction
    from django.utils import timezone

    from customers.models import Customer
    from risk import engine, services
    from risk.choices import ScanTrigger
    from risk.models import RiskRule

    print(f"customers: {Customer.objects.count():,}")
    as_of = timezone.now()
    overdue = RiskRule.objects.get(code="overdue-payment-30")
    params = engine.parameters(rule=overdue, as_of=as_of, scan_id=None)
    floor_sql = """
        SELECT count(*), sum(t.amount - t.paid_amount), max(t.customer_id), max(%(today)s::date - t.due_date)
        FROM transactions_transaction t
        WHERE t.status IN ('pending', 'shipped') AND t.due_date <= %(today)s::date - %(days_overdue)s::int
          AND t.paid_amount < t.amount
          AND t.amount - t.paid_amount
              >= coalesce((%(min_amount_by_currency)s::jsonb ->> t.currency)::numeric, %(min_amount)s::numeric)
    """

    def floor() -> float:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("SET jit = off")  # as the scan does
            cursor.execute(floor_sql, params)
            cursor.fetchall()
        return time.perf_counter() - started

    def scan() -> tuple[float, dict[str, object]]:
        started = time.perf_counter()
        done = services.risk_scan_now(actor=None, trigger=ScanTrigger.COMMAND, as_of=as_of)
        return time.perf_counter() - started, done.summary

    def shared_scan(workers: int) -> float:
        """The rules shared by ``workers`` threads with a database connection each, as the
        Celery workers share a scan's tasks."""
        from concurrent.futures import ThreadPoolExecutor

        from django.db import connections

        started = time.perf_counter()
        scan = services.risk_scan_start(actor=None, trigger=ScanTrigger.COMMAND, as_of=as_of, queue=False)

        def work(step_id: int) -> None:
            try:
                services.risk_step_run(step_id=step_id)
            finally:
                connections.close_all()

        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(work, list(scan.steps.order_by("pk").values_list("pk", flat=True))))
        return time.perf_counter() - started

    def overdue_rule() -> float:
        started = time.perf_counter()
        with transaction.atomic():
            engine.apply_rule(rule=overdue, as_of=as_of, scan_id=None)
        return time.perf_counter() - started

    # A scratch database: start with no alerts, so the first scan raises them all.
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE risk_alertcomment, risk_riskscanstep, risk_riskalert, risk_riskscan")
        cursor.execute("VACUUM ANALYZE risk_riskalert")
    floor()  # warm the cache the same way for both
    bare = statistics.median(floor() for _ in range(3))
    first, summary = scan()
    print(f"  first scan: { {k: v for k, v in summary.items() if k != 'rules'} }")
    line("full scan, raising every alert, s", first, bare, "s")
    with connection.cursor() as cursor:  # what autovacuum does after a bulk insert
        cursor.execute("VACUUM ANALYZE risk_riskalert")
    workers = max(2, min(8, os.cpu_count() or 2))
    steady, floors, alone, shared = [], [], [], []
    for _ in range(3):
        floors.append(floor())
        took, summary = scan()
        steady.append(took)
        shared.append(shared_scan(workers))
        alone.append(overdue_rule())
    bare = statistics.median(floors)
    print(f"  steady scan: { {k: v for k, v in summary.items() if k != 'rules'} }")
    line("full scan, rules one after the other, s", statistics.median(steady), bare, "s")
    line(f"full scan, {workers} workers sharing the rules, s", statistics.median(shared), bare, "s")
    line("overdue rule alone, s", statistics.median(alone), bare, "s")


if __name__ == "__main__":
    main()
