"""Shared start-up for the benchmark scripts: Django on the database named by DATABASE_URL."""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: How many Celery workers share a job's parts in the benchmarks: as many as the machine
#: has cores (the floor may use PostgreSQL's parallel workers on them too).
WORKERS = max(2, min(8, os.cpu_count() or 2))


def django_setup() -> None:
    if not os.environ.get("DATABASE_URL"):
        sys.exit("Set DATABASE_URL to a scratch PostgreSQL database (benchmarks write to it).")
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
    import django

    django.setup()


def median_ms(fn: Callable[[], object], *, repeat: int = 15, warmup: int = 3) -> float:
    """Median wall time of ``fn`` in milliseconds, after a few warm-up calls."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def line(name: str, figure: float, floor: float, unit: str) -> None:
    """One result: the figure, the bare floor it is measured against, and their ratio."""
    ratio = figure / floor if floor else float("nan")
    print(f"{name:<44} {figure:>12.2f} {unit:<6} floor {floor:>12.2f} {unit:<6} ratio {ratio:6.2f}", flush=True)


def shared_by_workers(part_ids: Iterable[int], run: Callable[[int], object], *, workers: int = WORKERS) -> None:
    """Run ``run(part_id)`` for every part on ``workers`` threads, each with a database
    connection of its own, as the Celery workers share the parts of a job."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections

    def work(part_id: int) -> None:
        try:
            run(part_id)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(work, part_ids))


def in_turns(floor: Callable[[], float], figure: Callable[[], float], *, times: int = 3) -> tuple[float, float]:
    """The medians of ``figure`` and ``floor`` (each returns seconds), measured in turns:
    the machine is shared, and a turn each keeps a passing load from favouring either."""
    figures, floors = [], []
    for _ in range(times):
        floors.append(floor())
        figures.append(figure())
    return statistics.median(figures), statistics.median(floors)
