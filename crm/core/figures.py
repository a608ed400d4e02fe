"""Figures the database keeps from the records (the tier dashboard's, archive health's).

Writers append the difference each statement makes, grouped by the figures' keys, as new
rows (never updating one, so that no two writers wait on each other); a figure is the
sum of its rows.  Each kind has two SQL functions, written with its triggers: one folds
its rows into one per key (every few minutes) and one counts them again from the records
(each night).  These run them.
"""

from __future__ import annotations

from django.db import connection, transaction


def figures_fold(function: str) -> None:
    """Fold kept figures into one row per key by ``function`` (a SQL function taking its
    own advisory lock).  The sums stay the same at every moment: rows appended by writers
    not yet committed stay as they are."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}()")


def figures_recount(function: str, lock: str) -> None:
    """Count kept figures again from the records by ``function``, in one snapshot, so
    that they are right again whatever went wrong (a restored backup, rows written with
    the triggers off, two writes committed at the same moment).  ``lock``: the advisory
    lock its folding function takes."""
    with connection.cursor() as cursor:
        if connection.in_atomic_block:
            # Inside a caller's transaction, whose snapshot rules: no other folding meanwhile.
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [lock])
            cursor.execute(f"SELECT {function}()")
            return
        # The lock first, then the snapshot: a snapshot older than a folding just
        # committed would fail to delete the rows that folding replaced.
        cursor.execute("SELECT pg_advisory_lock(hashtext(%s))", [lock])
        try:
            with transaction.atomic():
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                cursor.execute(f"SELECT {function}()")
        finally:
            cursor.execute("SELECT pg_advisory_unlock(hashtext(%s))", [lock])
