"""Shared start-up for the benchmark scripts: Django on the database named by DATABASE_URL."""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


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
