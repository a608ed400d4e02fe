"""How a page's statements are compiled and planned.

Querysets of a fixed shape, compiled to SQL once per process (:class:`Prepared`), and
pages whose short statements are planned without parallel workers
(:func:`without_parallel_workers`).

Turning a queryset into SQL costs more than running a small statement: the token look-up
that opens every API request (the token, its user and the user's team, about forty
columns) took 0.6-0.9 ms to compile and 0.2 ms to run.  A statement whose shape never
changes, only its values, is compiled once here and run with each call's values, through
Django's own iterable, so that what comes back (model instances, the related records of
``select_related``) is exactly what the queryset gives.

Only a shape that depends on nothing but the code may be prepared here: never a queryset
built from a user's scope, whose conditions change with the user.  The scope's own forms
are prepared by ``crm.access.scope.ScopedStatement``, one statement per form.
"""

from __future__ import annotations

import copy
import functools
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from django.db import connection, connections, transaction
from django.db.models import Lookup, Model, QuerySet

from .jobs import local_settings

M = TypeVar("M", bound=Model)

#: Values no real call passes, one per parameter, to find the parameters in the compiled
#: statement (a text and a whole number: the columns a key look-up compares).
_SENTINEL_TEXT = "\x7fprepared-parameter-{}\x7f"
_SENTINEL_NUMBER = -7_337_000_000_000


class AnyOf(Lookup):  # type: ignore[type-arg]
    """``field__any_of=[...]``: ``field = ANY(%s)``, the list bound as one array, so that the
    statement's text is the same whatever the number of values and can be prepared (an
    ``__in`` writes one placeholder per value).  Registered on every field by
    ``CoreConfig.ready``."""

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler: Any, connection: Any) -> Any:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", [*lhs_params, list(self.rhs)]


class Prepared(Generic[M]):
    """``build(*values)`` returns the queryset; a call with the values returns its rows.

    Each parameter is a text, a whole number or a list of whole numbers (``kinds``; a list
    goes with ``__any_of``); every place the statement uses it is bound to the call's
    value (a manager's scope names the manager twice).

    A ``paged`` statement reads one page of its rows: a call takes two more whole
    numbers, how many rows and from which (``LIMIT`` and ``OFFSET``, bound as values;
    Django writes a queryset's slice into the statement's text).  ``build`` returns the
    queryset unsliced, in a total order.
    """

    def __init__(self, build: Callable[..., QuerySet[M]], *kinds: type, paged: bool = False) -> None:
        self.build = build
        self.kinds = kinds
        self.paged = paged
        self._compiled: dict[str, tuple[QuerySet[M], Any, str, tuple[Any, ...], tuple[tuple[int, ...], ...], Any]] = {}
        self._lock = threading.Lock()

    def _sentinels(self) -> list[Any]:
        return [
            _SENTINEL_TEXT.format(index)
            if kind is str
            else [_SENTINEL_NUMBER - index]
            if kind is list
            else _SENTINEL_NUMBER - index
            for index, kind in enumerate(self.kinds)
        ]

    def _compile(self, alias: str) -> tuple[QuerySet[M], Any, str, tuple[Any, ...], tuple[tuple[int, ...], ...], Any]:
        compiled = self._compiled.get(alias)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.get(alias)  # another thread may have compiled it meanwhile
                if compiled is not None:
                    return compiled
                sentinels = self._sentinels()
                queryset = self.build(*sentinels).using(alias)
                if self.paged and (queryset.query.is_sliced or not queryset.ordered):
                    raise ValueError("a paged statement is built unsliced, in a total order")
                compiler = queryset.query.get_compiler(using=alias)
                sql, params = compiler.as_sql()
                positions = []
                for sentinel in sentinels:
                    found = tuple(index for index, value in enumerate(params) if value == sentinel)
                    if not found:
                        raise ValueError(f"a prepared parameter must appear in the statement: {sql}")
                    positions.append(found)
                if self.paged:
                    sql, params = f"{sql} LIMIT %s OFFSET %s", [*params, None, None]
                # How each column's value is read back (a JSON document, a decimal) depends
                # only on the columns: worked out once, not on every call.
                converters = compiler.get_converters([column[0] for column in compiler.select[: compiler.col_count]])
                compiled = (queryset, compiler, sql, tuple(params), tuple(positions), converters)
                self._compiled[alias] = compiled
        return compiled

    def __call__(self, *values: Any, using: str = "default") -> list[M]:
        kinds = (*self.kinds, int, int) if self.paged else self.kinds
        if len(values) != len(kinds) or not all(isinstance(v, k) for v, k in zip(values, kinds, strict=True)):
            raise TypeError(f"expected values of {kinds}, got {values!r}")
        here = connections[using]  # this thread's connection: each thread has its own
        queryset, compiler, sql, params, positions, converters = self._compile(here.alias)
        bound = list(params)
        if self.paged:
            limit, offset = values[-2:]
            if limit < 0 or offset < 0:
                raise ValueError("a page starts at a row and holds rows: neither is negative")
            bound[-2:] = [limit, offset]
            values = values[:-2]
        for places, value in zip(positions, values, strict=True):
            for place in places:
                bound[place] = value
        statement = copy.copy(compiler)
        statement.connection = here  # the compiler kept the connection of the thread that compiled it
        statement.as_sql = lambda *args, **kwargs: (sql, tuple(bound))  # the compiled SQL, this call's values
        statement.get_converters = lambda expressions: converters
        run = queryset._chain()  # type: ignore[attr-defined]
        run.query.get_compiler = lambda *args, **kwargs: statement
        return list(run)


def attach_prefetched(instance: Model, name: str, rows: list[Any]) -> None:
    """Leave on ``instance`` what ``prefetch_related(name)`` leaves for a reverse foreign
    key: ``instance.<name>.all()`` answers ``rows`` without a query, and each row knows
    ``instance`` as its parent.  For a record read with a prepared statement, whose related
    rows come from a prepared statement of their own."""
    relation = instance._meta.get_field(name)
    parent = relation.field  # type: ignore[union-attr]
    for row in rows:
        parent.set_cached_value(row, instance)
    kept = relation.related_model._default_manager.all()  # type: ignore[union-attr]
    kept._result_cache = rows
    kept._prefetch_done = True  # type: ignore[union-attr]
    cache = getattr(instance, "_prefetched_objects_cache", None)
    if cache is None:
        cache = instance._prefetched_objects_cache = {}  # type: ignore[attr-defined]
    cache[relation.cache_name] = kept  # type: ignore[union-attr]


V = TypeVar("V", bound=Callable[..., Any])


def without_parallel_workers(view: V) -> V:
    """Run ``view``'s statements with no parallel workers (``max_parallel_workers_per_gather
    = 0``) and then put the setting back.

    A work queue reads one page of the open records of a whole scope.  Planning for the
    whole scope, PostgreSQL started parallel workers for it and waited for them before the
    page's first row: at a million customers the manager's feedback page waited 23 ms for
    its workers and read its 50 rows in 33 ms, against 6 ms in one process (measured when
    the scope was still reached through each record's customer, before the records carried
    a copy of its owner and team).  Pages that aggregate a whole book (archive health, the dashboards)
    keep their workers, and so does the alert inbox, which measured the same either way.
    """

    @functools.wraps(view)
    def serial(*args: Any, **kwargs: Any) -> Any:
        with transaction.atomic(), connection.cursor() as cursor:
            with local_settings(cursor, max_parallel_workers_per_gather="0"):
                return view(*args, **kwargs)

    return serial  # type: ignore[return-value]
