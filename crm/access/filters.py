"""Filter, search and ordering parameters under the field policy.

A field the caller may not read in clear cannot be used to narrow or sort a list: that
would reveal its values one question at a time.  Filtering on it is refused with a 400
naming the parameter, and so is sorting by it; search skips it.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable
from functools import reduce
from typing import Any

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connections, transaction
from django.db.models import Exists, F, OrderBy, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import exceptions
from rest_framework.filters import OrderingFilter, SearchFilter
from rest_framework.request import Request

from crm.core.jobs import local_settings
from crm.core.pagination import counted_already
from crm.core.phones import Digits, phone_digits
from crm.core.search import text_match

from .policy import Level, UserPolicy, policy_for
from .scope import reads_few, scoped_queryset


def _resource(view: Any) -> str | None:
    return getattr(view, "resource", None)


def _base(lookup: str) -> str:
    return lookup.lstrip("^=@$-").split("__")[0]


def filter_fields(filterset_class: Any, name: str) -> tuple[str, ...]:
    """The resource fields a filter parameter reveals (``policy_fields`` on the filterset
    names them for filters that are not a plain lookup on one field)."""
    declared = getattr(filterset_class, "policy_fields", {}).get(name)
    if declared is not None:
        return tuple(declared)
    base_filters = getattr(filterset_class, "base_filters", {})
    if name in base_filters:
        return (_base(base_filters[name].field_name or name),)
    return (_base(name),)


class PolicyFilterBackend(DjangoFilterBackend):
    def filter_queryset(self, request: Request, queryset: QuerySet[Any], view: Any) -> QuerySet[Any]:
        resource = _resource(view)
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None and request.query_params.keys().isdisjoint(filterset_class.base_filters):
            # No filter named (no filter here reads a parameter of another name): each
            # would pass the rows through, so the filter form is not even built.
            return queryset
        if resource and filterset_class is not None:
            policy = policy_for(request.user, request)
            refused = {
                name: [_("You may not filter on this field.")]
                for name in request.query_params
                if name in filterset_class.base_filters
                and any(policy.level(resource, field) < Level.READ for field in filter_fields(filterset_class, name))
            }
            if refused:
                raise exceptions.ValidationError(refused)
        return super().filter_queryset(request, queryset, view)


#: A search whose matches PostgreSQL expects in fewer than one row in this many of those
#: the user sees has its ids read on its indexes (:func:`_rare`).
RARE = 100


def _rare(matches: QuerySet[Any], seen: QuerySet[Any]) -> bool:
    """Whether PostgreSQL expects fewer than one row in ``RARE`` of those ``seen`` (the
    user's, before the search) to be among ``matches``.

    Asked for the first matches up to a limit, PostgreSQL takes them to be spread evenly
    through the table and reads it from the start until the limit is reached.  They
    seldom are: the references that hold "SHOP-12" (one order in 300) are one stretch of
    a year's orders, and the scan read 485,000 orders before it found 2,001 of them
    (170 ms at L, against 34 ms on the trigram index).  A term that one row in a few
    holds (two letters) is found at once by the scan, and would cost a second on the
    index: it is left to PostgreSQL."""
    expected = _expected_rows(matches)
    return expected is not None and expected * RARE < (_expected_rows(seen) or 0)


def _expected_rows(rows: QuerySet[Any]) -> float | None:
    """How many rows PostgreSQL expects ``rows`` to hold (None: a condition nothing
    meets, which is read at once)."""
    try:
        sql, params = rows.order_by().values_list("pk", flat=True).query.sql_with_params()
    except EmptyResultSet:
        return None
    with connections[rows.db].cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        return float(cursor.fetchone()[0][0]["Plan"]["Plan Rows"])


class PolicySearchFilter(SearchFilter):
    """DRF's search within the fields the caller may read in clear; and a search for a
    phone number finds it however it was typed, among the phone columns the view names
    (``phone_search``: resource, field, path from the record; a path through a relation
    looks among the related records the caller may see)."""

    def filter_queryset(self, request: Request, queryset: QuerySet[Any], view: Any) -> QuerySet[Any]:
        terms = self.get_search_terms(request)
        few = reads_few(queryset.model, request.user)
        self._known: dict[Any, list[Any]] = {}  # related matches read once for both statements
        by_phone = self._phone_condition(request, queryset, view, terms)
        # With every search field out of reach, a search matches nothing (rather than
        # being ignored, which would answer "everything matches").
        if terms and not self.get_search_fields(view, request):
            return _by_ids(queryset, queryset.filter(by_phone), few=few) if by_phone else queryset.none()
        found = self._matching(request, queryset, view, terms)
        if not terms:
            return found
        if not by_phone:
            return _by_ids(
                queryset, found, lambda: self._matching(request, queryset, view, terms, by_index=False), few=few
            )
        return _by_ids(queryset, queryset.filter(Q(pk__in=found.values("pk")) | by_phone), few=few)

    def _matching(
        self, request: Request, queryset: QuerySet[Any], view: Any, terms: list[str], *, by_index: bool = True
    ) -> QuerySet[Any]:
        """DRF's search: every term in one of the search fields.  Each term's look-ups
        are OR-ed by ``crm.core.search.text_match``, so that a term too short for the
        trigram indexes (a two-character Chinese name) is found on the bigram index
        (``by_index``; else as plain look-ups, checked row by row)."""
        fields = self.get_search_fields(view, request)
        if not fields or not terms:
            return queryset
        lookups = [self.construct_search(str(field), queryset) for field in fields]
        found = queryset.filter(
            reduce(
                operator.and_,
                (
                    text_match(queryset.model, lookups, term, by_index=by_index, known=getattr(self, "_known", None))
                    for term in terms
                ),
            )
        )
        if self.must_call_distinct(found, fields):
            return queryset.filter(Exists(found.filter(pk=OuterRef("pk"))))
        return found

    def _phone_condition(self, request: Request, queryset: QuerySet[Any], view: Any, terms: list[str]) -> Q | None:
        digits = phone_digits(" ".join(terms)) if terms else None
        fields = getattr(view, "phone_search", ())
        if digits is None or not fields:
            return None
        return phone_condition(queryset.model, request.user, policy_for(request.user, request), fields, digits)

    def get_search_fields(self, view: Any, request: Request) -> Any:
        fields = super().get_search_fields(view, request) or ()
        resource = _resource(view)
        if not resource:
            return fields
        policy = policy_for(request.user, request)
        return tuple(f for f in fields if policy.level(resource, _base(f)) >= Level.READ)


#: A search matching at most this many rows is narrowed to their ids before the page is
#: read (the list's count cap, 2,000, as it is by default).
SEARCH_IDS_MAX = 2000


def _by_ids(
    queryset: QuerySet[Any],
    found: QuerySet[Any],
    walked: Callable[[], QuerySet[Any]] | None = None,
    *,
    few: bool = False,
) -> QuerySet[Any]:
    """The rows a search found, as ``pk IN (their ids)`` when they are few.

    The matches' ids are found first, on the search's own indexes, up to the list's
    count cap and one more (one query).  When there are at most ``SEARCH_IDS_MAX``, the
    page is sorted among them.  Asked for the first page in name order with the search's
    condition, PostgreSQL would walk the name index and check each row, expecting a match
    soon: a rare name then costs a walk through most of the table (seconds at a million
    rows).

    A broader search is paged by its condition (``walked``, when given: its plain
    look-ups, without the bigram index's).  Its matches are at least one in every few
    thousand rows, so a walk in the page's order meets a page of them at once.  Given
    the index's condition instead, PostgreSQL guesses from the pieces of the term that
    few rows hold them all, reads every match on the index and sorts them: 1.1 s at
    L for a job title that 208,696 contacts hold.

    That first query also tells the page's count (``crm.core.pagination.
    counted_already``): finding the matches of a rare term reads every row, and counting
    them did it a second time.  The matches of a rare term are read on the search's
    indexes (:func:`_rare`), but among rows ``few`` by their scope (a rep's own, which
    PostgreSQL reads from the rep's customers whatever the term).
    """
    reach = max(SEARCH_IDS_MAX, settings.CRM_LIST_COUNT_CAP) + 1
    found_ids = found.order_by().values_list("pk", flat=True)
    if not few and _rare(found, queryset):
        with (
            transaction.atomic(using=found.db),
            connections[found.db].cursor() as cursor,
            local_settings(cursor, enable_seqscan="off"),
        ):
            read = list(found_ids[:reach])
    else:
        read = list(found_ids[:reach])
    ids = list(dict.fromkeys(read))  # a condition through a relation may name a row twice
    matches = reach if len(read) == reach else len(ids)
    if matches <= SEARCH_IDS_MAX:
        narrowed = queryset.filter(pk__in=ids)
    else:
        narrowed = found if walked is None else walked()
    return counted_already(narrowed, matches)


class PolicyOrderingFilter(OrderingFilter):
    """Sorting by a field the caller may not read in clear is refused with a 400 (sorting
    would rank the hidden values); unknown fields are ignored, as DRF does."""

    def get_ordering(self, request: Request, queryset: QuerySet[Any], view: Any) -> Any:
        resource = _resource(view)
        params = request.query_params.get(self.ordering_param)
        if resource and params:
            policy = policy_for(request.user, request)
            known = {name for name, _label in super().get_valid_fields(queryset, view, {"request": request})}
            refused = [
                term.strip()
                for term in params.split(",")
                if term.strip().lstrip("-") in known and policy.level(resource, _base(term.strip())) < Level.READ
            ]
            if refused:
                raise exceptions.ValidationError(
                    {self.ordering_param: [_("You may not sort by this field: %(f)s") % {"f": ", ".join(refused)}]}
                )
        ordering = super().get_ordering(request, queryset, view)
        # A column that stands for an offered one and keeps its order with an index
        # (the customer's own tier rank for ``tier__rank``).
        columns = getattr(view, "ordering_columns", None)
        if ordering and columns:
            ordering = [_column(term, columns) if isinstance(term, str) else term for term in ordering]
        ordering = tie_broken(ordering)
        if ordering and reads_few(queryset.model, request.user, queryset):
            ordering = [sorted_apart(term) for term in ordering]
        return ordering


def sorted_apart(term: Any) -> Any:
    """``term`` (a field name, ``-`` for descending) as an order that no index serves:
    the rows are read first and then sorted (``crm.access.scope.reads_few``).
    ``COALESCE(column, column)`` is the column, NULLs included, so the order is the same."""
    if not isinstance(term, str):
        return term
    name = term.lstrip("-")
    return OrderBy(Coalesce(F(name), F(name)), descending=term.startswith("-"))


def _column(term: str, columns: dict[str, str]) -> str:
    sign, name = ("-", term[1:]) if term.startswith("-") else ("", term)
    return sign + columns.get(name, name)


def tie_broken(ordering: Any) -> Any:
    """An ordering that ends on the record's id, in the direction of its last term.

    Rows equal in every sorted column (a city, a stage, a tier) come back in any order
    the database likes, and may change places between two pages: a client paging through
    a list sorted by city could see a customer twice and another never.  The id makes
    the order total.
    """
    if not ordering:
        return ordering
    terms = list(ordering)
    names = {str(term).lstrip("-") for term in terms if isinstance(term, str)}
    if names & {"pk", "id"}:
        return terms
    last = terms[-1]
    descending = last.startswith("-") if isinstance(last, str) else bool(getattr(last, "descending", False))
    return [*terms, "-pk" if descending else "pk"]


def phone_condition(
    model: Any, user: Any, policy: UserPolicy, fields: Iterable[tuple[str, str, str]], digits: str
) -> Q | None:
    """The records of ``model`` one of whose phone ``fields`` (resource, field, path from
    the record) holds ``digits`` however it was typed (``crm.core.phones``), among the
    fields ``policy`` lets the user read in clear; a path through a relation looks among
    the related records the user may see.  None when no field may be searched.  Each
    field is a subquery on its digits' trigram index, to be narrowed by the caller's
    scoped queryset."""
    condition = Q()
    for resource, field, path in fields:
        if policy.level(resource, field) < Level.READ:
            continue
        if "__" not in path:
            matching = model._default_manager.alias(_digits=Digits(path)).filter(_digits__contains=digits)
            condition |= Q(pk__in=matching.values("pk"))
            continue
        relation_name, column = path.split("__", 1)
        relation = model._meta.get_field(relation_name)
        related = scoped_queryset(relation.related_model, user)
        matching = related.alias(_digits=Digits(column)).filter(_digits__contains=digits)
        condition |= Q(pk__in=matching.values(relation.field.attname))
    return condition or None
