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


def samples_ms(
    fn: Callable[[], object], *, repeat: int = 15, warmup: int = 3, enough_ms: float | None = None
) -> list[float]:
    """Wall times of ``fn`` in milliseconds, after a few warm-up calls; with
    ``enough_ms``, stop after two calls slower than that (slow enough to know)."""
    for _ in range(warmup):
        fn()
    samples: list[float] = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
        if enough_ms is not None and len(samples) >= 2 and samples[-1] > enough_ms:
            break
    return samples


def p95(samples: list[float]) -> float:
    """The 95th percentile of ``samples`` (of ten, the slowest but none)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


class Goal:
    """Cases timed against a goal in milliseconds: each printed as its p95 beside its
    floor; those over the goal are listed again by ``summary``."""

    def __init__(self, ms: float, width: int) -> None:
        self.ms, self.width = ms, width
        self.total = 0
        self.slow: list[tuple[float, str]] = []

    def case(self, name: str, figure: float, floor: float, queries: int) -> None:
        self.total += 1
        flag = "  SLOW" if figure > self.ms else ""
        print(
            f"{name[: self.width]:<{self.width}} p95 {figure:9.1f} ms  floor {floor:9.1f} ms"
            f"  ratio {figure / floor:6.2f}  ({queries} queries){flag}",
            flush=True,
        )
        if figure > self.ms:
            self.slow.append((figure, name))

    def summary(self) -> None:
        print(f"\n{self.total} cases; {len(self.slow)} over {self.ms:.0f} ms:")
        for figure, name in sorted(self.slow, reverse=True):
            print(f"  {figure:9.1f} ms  {name}")


def median_ms(fn: Callable[[], object], *, repeat: int = 15, warmup: int = 3) -> float:
    """Median wall time of ``fn`` in milliseconds, after a few warm-up calls."""
    return statistics.median(samples_ms(fn, repeat=repeat, warmup=warmup))


def line(name: str, figure: float, floor: float, unit: str) -> None:
    """One result: the figure, the bare floor it is measured against, and their ratio."""
    ratio = figure / floor if floor else float("nan")
    print(f"{name:<44} {figure:>12.2f} {unit:<6} floor {floor:>12.2f} {unit:<6} ratio {ratio:6.2f}", flush=True)


def shared_by_workers(part_ids: Iterable[int], run: Callable[[int], object], *, workers: int = WORKERS) -> None:
    """Run ``run(part_id)`` for every part on ``workers`` threads, as the Celery workers
    share the parts of a job: each takes the next part when it is free, and keeps its own
    database connection from one part to the next (the settings keep a worker's
    connection for a minute), closing it when no part is left."""
    import queue
    import threading

    from django.db import connections

    waiting: queue.SimpleQueue[int] = queue.SimpleQueue()
    for part_id in part_ids:
        waiting.put(part_id)
    failures: list[BaseException] = []

    def work() -> None:
        try:
            while True:
                try:
                    part_id = waiting.get_nowait()
                except queue.Empty:
                    return
                run(part_id)
        except BaseException as exc:  # noqa: BLE001 - raised again in the caller's thread
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, name=f"worker-{n}") for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]


def in_turns(floor: Callable[[], float], figure: Callable[[], float], *, times: int = 3) -> tuple[float, float]:
    """The medians of ``figure`` and ``floor`` (each returns seconds), measured in turns:
    the machine is shared, and a turn each keeps a passing load from favouring either."""
    figures, floors = [], []
    for _ in range(times):
        floors.append(floor())
        figures.append(figure())
    return statistics.median(figures), statistics.median(floors)
