"""Tests of the demo seeder."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.db import transaction

T = TypeVar("T")


def read_then_roll_back(load: Callable[[], object], read: Callable[[], T]) -> T:
    """What ``read`` finds after ``load``, the load rolled back afterwards (to compare
    two loads in one test)."""
    sid = transaction.savepoint()
    try:
        load()
        return read()
    finally:
        transaction.savepoint_rollback(sid)
