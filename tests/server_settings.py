"""What the server settings are while a job's part runs its main statement."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connection

PARALLEL = "max_parallel_workers_per_gather"


def current(name: str = PARALLEL) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting(%s)", [name])
        return str(cursor.fetchone()[0])


def during(marker: str, run: Callable[[], Any], name: str = PARALLEL) -> list[str]:
    """The setting ``name`` in force each time ``run`` executes a statement containing
    ``marker`` (read just before it, on the same connection)."""
    seen: list[str] = []

    def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if marker in sql:
            context["cursor"].execute("SELECT current_setting(%s)", [name])
            seen.append(context["cursor"].fetchone()[0])
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        run()
    return seen
