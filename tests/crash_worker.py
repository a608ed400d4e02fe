"""Real Celery workers that die at a chosen point, for the crash tests of the background
jobs (``tests/risk/test_crash.py``, ``tests/tiers/test_crash.py``).

A dying worker runs as ``celery -A tests.crash_worker worker --pool=solo``: the project's
Celery app, plus hooks that SIGKILL the worker (the solo pool runs tasks in the worker's
only process, so the whole worker dies, as when its machine goes down) at the point
named by its ``CRASH_AT`` environment variable, ``<where>:<what>[@n]``, the n-th time (the
first by default) it gets there:

- ``sql-before:<text>``: before running an SQL statement containing ``text``;
- ``sql-after:<text>``: after running one that changed rows, before its transaction ends;
- ``publish:<task name>``: as the worker is about to queue that task;
- ``postrun:<task name>``: once that task has returned, before its message is acknowledged.

Before dying it writes the point to the file ``CRASH_MARK``, so that a test knows the
worker died where it meant it to.  Without ``CRASH_AT`` (the test process, which imports
this module for ``CrashLab``) no hook is installed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from celery.signals import before_task_publish, task_postrun
from django.db.backends.signals import connection_created

from crm.celery import app

ROOT = Path(__file__).resolve().parents[1]
_point = os.environ.get("CRASH_AT", "")
_where, _sep, _rest = _point.partition(":")
_what, _at, _nth = _rest.rpartition("@") if "@" in _rest else (_rest, "", "1")
_seen = 0


def _reached() -> None:
    """One more time at the point: on the n-th, leave the mark and die."""
    global _seen
    _seen += 1
    if _seen == int(_nth):
        Path(os.environ["CRASH_MARK"]).write_text(_point)
        os.kill(os.getpid(), signal.SIGKILL)


def _sql_hook(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
    if _where == "sql-before" and _what in sql:
        _reached()
    result = execute(sql, params, many, context)
    if _where == "sql-after" and _what in sql and context["cursor"].rowcount > 0:
        _reached()
    return result


def _on_connection(connection: Any, **_: Any) -> None:
    if _sql_hook not in connection.execute_wrappers:
        connection.execute_wrappers.append(_sql_hook)


def _on_publish(sender: Any = None, **_: Any) -> None:
    if _where == "publish" and sender == _what:
        _reached()


def _on_postrun(sender: Any = None, **_: Any) -> None:
    if _where == "postrun" and getattr(sender, "name", None) == _what:
        _reached()


if _point:
    connection_created.connect(_on_connection, weak=False)
    before_task_publish.connect(_on_publish, weak=False)
    task_postrun.connect(_on_postrun, weak=False)


def wait_for(condition: Callable[[], Any], what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


class CrashLab:
    """The workers of a crash test, against the test database and this test's queues.

    One dying worker per crash point, each on a queue of its own, all started at once (a
    worker takes seconds to start); and one healthy worker (two processes, like a
    production worker on two cores) on a queue of its own, which carries on after each
    death as a worker started again would.  In production every worker reads the same
    queue; here the tasks of a dead worker are moved to the healthy worker's queue:
    those still waiting at once (a worker that comes back takes them), those it had
    taken but not acknowledged when the broker's visibility timeout passes
    (``visibility_timeout_passes``).
    """

    def __init__(self, points: dict[str, str]) -> None:
        stamp = time.monotonic_ns()
        self.healthy = f"crash-healthy-{stamp}"
        self.queues = {name: f"crash-{name}-{stamp}" for name in points}
        self.points = points
        self.marks = Path(tempfile.mkdtemp(prefix="crash-"))
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def __enter__(self) -> CrashLab:
        from django.conf import settings
        from django.db import connection

        db = connection.settings_dict
        password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
        port = f":{db['PORT']}" if db.get("PORT") else ""
        # The host may be a socket directory (the embedded server): percent-encoded in the URL.
        host = quote(db.get("HOST") or "", safe="")
        base = {
            **os.environ,
            "DATABASE_URL": f"postgres://{quote(db['USER'], safe='')}{password}@{host}{port}/{db['NAME']}",
            "REDIS_URL": settings.CELERY_BROKER_URL,
            "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        }
        base.pop("CRASH_AT", None)
        # What a worker queues itself (a job's follow-up) stays on its own queue.
        self._start("healthy", ["-A", "crm", "worker", "--pool=prefork", "--concurrency=2", "-Q", self.healthy],
                    {**base, "CELERY_QUEUE": self.healthy})  # fmt: skip
        for name, point in self.points.items():
            self._start(
                name,
                ["-A", "tests.crash_worker", "worker", "--pool=solo", "-Q", self.queues[name]],
                {**base, "CELERY_QUEUE": self.queues[name], "CRASH_AT": point, "CRASH_MARK": str(self.marks / name)},
            )
        return self

    def _start(self, name: str, arguments: list[str], env: dict[str, str]) -> None:
        flags = ["--loglevel=WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat"]
        with (self.marks / f"{name}.log").open("wb") as log:
            self.processes[name] = subprocess.Popen(
                [sys.executable, "-W", "ignore", "-m", "celery", *arguments, *flags],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip

    def log(self, name: str) -> str:
        """The end of a worker's output, to show when it did not do what was expected."""
        return (self.marks / f"{name}.log").read_text(errors="replace")[-3000:]

    def __exit__(self, *_: Any) -> None:
        app.conf.task_default_queue = "celery"
        for process in self.processes.values():
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)

    @contextmanager
    def dying(self, name: str) -> Iterator[None]:
        """Tasks queued in the block go to the worker that dies at ``name``'s point; on
        leaving, wait until it died there, and hand its waiting tasks to the healthy
        worker (tasks queued from now on go to it too)."""
        app.conf.task_default_queue = self.queues[name]
        try:
            yield
            self.processes[name].wait(timeout=60)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"the worker for {name} never got to {self.points[name]}:\n{self.log(name)}") from None
        finally:
            app.conf.task_default_queue = self.healthy
        mark = self.marks / name
        assert mark.exists(), f"the worker for {name} died elsewhere than at {self.points[name]}:\n{self.log(name)}"
        from kombu.utils.json import loads

        with self._broker() as (client, channel):
            while (raw := client.rpop(self.queues[name])) is not None:
                self._to_healthy(client, loads(raw))

    def visibility_timeout_passes(self, name: str) -> int:
        """The tasks the dead worker had taken and not acknowledged come back, as the
        broker hands them out again once its visibility timeout has passed (to the
        healthy worker).  Returns how many."""
        from kombu.utils.json import loads

        back = 0
        with self._broker() as (client, channel):
            for tag, raw in client.hgetall(channel.unacked_key).items():
                message, _exchange, routing_key = loads(raw)
                if routing_key != self.queues[name]:
                    continue
                message["headers"]["redelivered"] = True
                message["properties"]["delivery_info"]["redelivered"] = True
                client.zrem(channel.unacked_index_key, tag)
                client.hdel(channel.unacked_key, tag)
                self._to_healthy(client, message)
                back += 1
        return back

    def _to_healthy(self, client: Any, message: dict[str, Any]) -> None:
        """Queue a message for the healthy worker, as if it had been sent to its queue."""
        from kombu.utils.json import dumps

        message["properties"]["delivery_info"]["routing_key"] = self.healthy
        client.lpush(self.healthy, dumps(message))

    def settled(self, quiet: float = 1.0) -> None:
        """Wait until the healthy worker has had nothing waiting and nothing
        unacknowledged for ``quiet`` seconds.

        One look is not enough: a worker takes a message off its queue (BRPOP) a moment
        before it records it as unacknowledged, and a look in between sees neither.
        """
        from kombu.utils.json import loads

        def idle() -> bool:
            with self._broker() as (client, channel):
                if client.llen(self.healthy):
                    return False
                return all(loads(raw)[2] != self.healthy for raw in client.hvals(channel.unacked_key))

        idle_since: list[float] = []

        def quiet_for_a_while() -> bool:
            if not idle():
                idle_since.clear()
                return False
            if not idle_since:
                idle_since.append(time.monotonic())
            return time.monotonic() - idle_since[0] >= quiet

        try:
            wait_for(quiet_for_a_while, "the healthy worker to finish its tasks")
        except AssertionError as exc:
            raise AssertionError(f"{exc}:\n{self.log('healthy')}") from None

    @contextmanager
    def _broker(self) -> Iterator[tuple[Any, Any]]:
        with app.connection_for_write() as connection:
            channel = connection.default_channel
            yield channel.client, channel
