"""Two writers at once: a write held open in another thread's transaction while the
test writes too, for checking that what the database keeps counts both."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import connections, transaction


@contextmanager
def held_open(write: Callable[[], object], seconds: float = 0.5) -> Iterator[None]:
    """Run ``write`` in a transaction of another thread, and run the body while that
    transaction stays open (``seconds``) and after it commits: the body's own write
    meets the other one in flight."""
    inside = threading.Event()

    def other() -> None:
        try:
            with transaction.atomic():
                write()
                inside.set()
                threading.Event().wait(seconds)
        finally:
            connections.close_all()

    worker = threading.Thread(target=other)
    worker.start()
    assert inside.wait(10)
    try:
        yield
    finally:
        worker.join(10)
