"""Tier evaluation time at scale, against the bare SQL aggregate of the same metrics.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench python bench/tiers.py

Needs a database loaded with seed_demo.  The floor is one SQL statement that computes
every customer's metrics (spend and orders over the window, last order, any paid order,
average satisfaction) and nothing else — no scoring, no decision, no writes: the
engine's own first steps (``tiers.engine.ORDERS``, ``SURVEYS``, ``METRICS``), so that
the floor aggregates exactly what an evaluation does.  The figure is a full evaluation
(every chunk, one after the other in this process, as ``evaluate_tiers --sync`` does),
run twice: the first grades every customer (and writes them all), then the steady state
(nothing changed, nothing written), three times in turn with the floor, and the steady
state again with the chunks shared by as many workers as the machine has cores.  The
target: at most 1.5× the floor.
"""

from __future__ import annotations

import statistics
import time

from _setup import WORKERS, django_setup, in_turns, line, shared_by_workers


def main() -> None:
    django_setup()
    from django.db import connection
    from django.utils import timezone

    from customers.models import Customer
    from tiers import services
    from tiers.choices import RunTrigger
    from tiers.engine import METRICS, ORDERS, SURVEYS, parameters
    from tiers.selectors import active_policy

    customers = Customer.objects.count()
    print(f"customers: {customers:,}")
    policy = active_policy()
    assert policy is not None
    as_of = timezone.now()
    params = parameters(policy=policy, as_of=as_of, first_id=0, last_id=2**62, run_id=None)

    # The engine's own first steps: each customer's orders and answers aggregated, joined
    # to the customer (what the figures below do not read, the database skips).
    floor_sql = "WITH " + ",\n".join((ORDERS, SURVEYS, METRICS)) + "\nSELECT * FROM metrics"

    def floor() -> float:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("SET jit = off")  # as the engine does
            # Every metric is used, so that the database cannot skip computing any of them.
            cursor.execute(
                "SELECT count(*), sum(x.spend), sum(x.orders), max(x.last_order), count(*) FILTER (WHERE x.paid), "
                f"avg(x.csat), sum(x.influence), min(x.last_sign) FROM ({floor_sql}) x",
                params,
            )
            cursor.fetchall()
        return time.perf_counter() - started

    def evaluation(workers: int = 1) -> tuple[float, dict[str, int]]:
        """Chunks one after the other (workers=1, as ``--sync``), or shared by ``workers``
        threads with a database connection each, as Celery workers share them."""
        started = time.perf_counter()
        run = services.tier_run_start(actor=None, trigger=RunTrigger.COMMAND, as_of=as_of, queue=False)
        chunk_ids = list(run.chunks.values_list("pk", flat=True))
        shared_by_workers(
            chunk_ids, lambda pk: services.tier_run_evaluate_chunk(chunk_id=pk, on_worker=workers > 1), workers=workers
        )
        run.refresh_from_db()
        return time.perf_counter() - started, run.summary

    # A scratch database: start from ungraded customers, so the first run grades them all.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE customers_customer SET tier_id = NULL, tier_score = NULL, tier_since = NULL, "
            "tier_below_since = NULL, tier_override_until = NULL"
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE customers_customer")
    floor()  # warm the cache the same way for both
    bare = statistics.median(floor() for _ in range(3))
    first, summary = evaluation()
    print(f"  first run: {summary}")
    line("evaluation, first grading of all, s", first, bare, "s")
    # The next periodic run comes weeks later, long after autovacuum has cleaned up the
    # first grading's million row versions: do here what it would have done.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE customers_customer")
    # The steady state and its floor, measured in turns (medians of three).
    summaries: list[dict[str, int]] = []

    def steady() -> float:
        took, summary = evaluation()
        summaries.append(summary)
        return took

    figure, bare = in_turns(floor, steady)
    print(f"  steady run: {summaries[-1]}")
    line("evaluation, steady state (nothing changes), s", figure, bare, "s")
    # The floor may use PostgreSQL's parallel workers; the evaluation's parallelism is its
    # chunks, shared by the Celery workers: here as many as the machine has cores.
    figure, bare = in_turns(floor, lambda: evaluation(WORKERS)[0])
    line(f"evaluation, steady state, {WORKERS} workers, s", figure, bare, "s")


if __name__ == "__main__":
    main()
