"""Who is acting, from where: set once per request, command or task, read by the audit service."""

from __future__ import annotations

import contextlib
import contextvars
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace

from .choices import Source


@dataclass(frozen=True)
class AuditContext:
    source: str = Source.SYSTEM
    request_id: str = ""
    ip: str | None = None


# AuditContext is frozen, so sharing one default instance is safe.
_DEFAULT = AuditContext()
_current: contextvars.ContextVar[AuditContext] = contextvars.ContextVar("audit_context", default=_DEFAULT)  # noqa: B039


def current() -> AuditContext:
    return _current.get()


@contextlib.contextmanager
def audit_context(*, source: str, request_id: str | None = None, ip: str | None = None) -> Iterator[AuditContext]:
    """Run a block as one unit of work of the given source (command, task, import ...)."""
    ctx = replace(current(), source=source, request_id=request_id or uuid.uuid4().hex, ip=ip)
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)


def set_for_request(ctx: AuditContext) -> contextvars.Token[AuditContext]:
    return _current.set(ctx)


def reset(token: contextvars.Token[AuditContext]) -> None:
    _current.reset(token)
