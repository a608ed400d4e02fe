"""List pagination shared by every endpoint."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import Count, QuerySet, Window
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from crm.core.validation import parse_page


def capped_count(queryset: QuerySet[Any], cap: int | None = None) -> tuple[int, bool]:
    """How many rows, counting at most ``cap`` (``CRM_LIST_COUNT_CAP``, 2,000): a
    million-row count is not worth its time.  Returns (count, whether there are more).

    Rows already counted on the way (:func:`counted_already`) are not counted again."""
    cap = settings.CRM_LIST_COUNT_CAP if cap is None else cap
    known = getattr(queryset.query, "counted_already", None)
    if known is not None and known[0] == cap and known[1] == _rows_named(queryset.query):
        return known[2], known[3]
    counted = queryset.order_by()[: cap + 1].count()
    return min(counted, cap), counted > cap


def counted_already(queryset: QuerySet[Any], found: int) -> QuerySet[Any]:
    """``queryset``, whose rows were just read up to ``CRM_LIST_COUNT_CAP`` + 1 of them
    (``found``), marked so that :func:`capped_count` answers from that instead of
    counting them again: a search reads its matches' ids before the page, and a rare
    term reads every row to find them.

    The mark holds only while the rows stay the ones counted: a sort keeps it, and any
    further condition (which changes what the statement's conditions read as text)
    makes the count run again."""
    cap = settings.CRM_LIST_COUNT_CAP
    queryset.query.counted_already = (cap, _rows_named(queryset.query), min(found, cap), found > cap)  # type: ignore[attr-defined]
    return queryset


def _rows_named(query: Any) -> tuple[Any, ...]:
    """What decides which rows ``query`` reads, as values to compare (a sort does not)."""
    return (str(query.where), query.distinct, query.combinator, query.low_mark, query.high_mark)


def page_by_ids(queryset: QuerySet[Any], offset: int, limit: int) -> list[Any]:
    """The rows ``offset`` to ``offset + limit`` of ``queryset``, its page's ids sorted
    first and then those rows read: for a list narrowed to few rows by their nature
    (``crm.access.scope.few_by_nature``), whose every row is read and sorted for a page.
    The ids, the condition and the order can then come from one index alone (the
    overdue orders': 19,494 orders at L), and only the page's rows from the table; the
    whole rows of every match were read to sort them before (a bitmap of 12,000 pages)."""
    ids = list(queryset.values_list("pk", flat=True)[offset : offset + limit])
    rows = {row.pk: row for row in queryset.order_by().filter(pk__in=ids)}
    return [rows[pk] for pk in ids if pk in rows]


class CappedPaginator(Paginator):
    """The pages of a workspace list whose count stops at ``CRM_LIST_COUNT_CAP``: past it,
    ``more`` is true, the pages go as far as the count (the last of them, for a page
    number beyond), and the page says "more than" that many.  A queue of a manager's
    whole team at a million customers answers without counting every row."""

    more = False

    @cached_property
    def count(self) -> int:
        if not isinstance(self.object_list, QuerySet):
            return super().count
        count, self.more = capped_count(self.object_list)
        return count

    def counted(self, count: int | None, more: bool = False) -> CappedPaginator:
        """Take ``count``, worked out already (exactly within the cap, or the cap with
        ``more``), instead of counting the rows again; None leaves the paginator to count
        them."""
        if count is not None:
            self.__dict__["count"] = count
            self.more = more
        return self


def grouped_page(queryset: QuerySet[Any], per_page: int, number: str | None) -> Page:
    """A page of ``queryset``, a statement that must work out every row before it can
    return any (rows grouped and sorted by their aggregates), with its count from the
    same statement (a window over the grouped rows): the rows are grouped once, not once
    to count them and once more for the page.  The count is exact, since the statement
    reads every row anyway.  A page number past the end gives the last page, as
    :class:`CappedPaginator` does (counting apart, then)."""
    paginator = CappedPaginator(queryset, per_page)
    wanted = parse_page(number)
    offset = (wanted - 1) * per_page
    rows = list(queryset.annotate(grouped_total=Window(Count("*")))[offset : offset + per_page])
    if not rows and wanted > 1:
        return paginator.get_page(wanted)
    paginator.counted(rows[0]["grouped_total"] if rows else 0)
    return Page(rows, wanted, paginator)


class StandardPagination(PageNumberPagination):
    """``?page=`` and ``?page_size=`` (at most 200); the rows are under ``results``.

    ``count`` is exact up to ``CRM_LIST_COUNT_CAP`` rows (2,000).  Past it, ``count``
    is the cap and ``count_capped`` is true: counting a million rows on every page costs
    more than the page, and nobody pages through a million rows to the end.  ``next``
    and ``previous`` are exact whatever the count: a page reads one row more than it
    shows, so ``next`` is there exactly when another row is.  ``page=last`` is the last
    page of the rows counted.
    """

    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 200

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> list[Any] | None:
        def read(offset: int, limit: int) -> list[Any]:
            if isinstance(queryset, QuerySet) and getattr(queryset.query, "few_by_nature", False):
                return page_by_ids(queryset, offset, limit)
            return list(queryset[offset : offset + limit])

        return self.paginate_rows(read, lambda: capped_count(queryset), request)

    def paginate_rows(
        self,
        read: Callable[[int, int], list[Any]],
        count: Callable[[], tuple[int, bool]],
        request: Request,
    ) -> list[Any] | None:
        """The page the request names, of rows that ``read(offset, limit)`` gives in
        order and that ``count()`` counts as :func:`capped_count` does: for a list read
        otherwise than by slicing a queryset (``ScopedModelViewSet.list_page``)."""
        size = self.get_page_size(request)
        if not size:
            return None
        self.request = request
        raw = request.query_params.get(self.page_query_param) or "1"
        last = raw in self.last_page_strings
        if last:
            self.count, self.count_capped = count()
            number = max(1, -(-self.count // size))
        else:
            try:
                number = int(raw)
            except ValueError:
                number = 0
            # Past the end of any table (and of PostgreSQL's OFFSET) is a page that is not there.
            if not 1 <= number <= 2**62 // size:
                raise NotFound(_("Invalid page."))
        rows = read((number - 1) * size, size + 1)
        self.has_next = len(rows) > size
        rows = rows[:size]
        if not rows and number > 1:
            raise NotFound(_("Invalid page."))
        if number == 1 and not self.has_next:
            self.count, self.count_capped = len(rows), False  # every row is on this page
        elif not last:
            self.count, self.count_capped = count()
        self.number, self.size = number, size
        return rows

    def get_next_link(self) -> str | None:
        if not self.has_next:
            return None
        url = self.request.build_absolute_uri()  # type: ignore[union-attr]
        return replace_query_param(url, self.page_query_param, self.number + 1)

    def get_previous_link(self) -> str | None:
        if self.number <= 1:
            return None
        url = self.request.build_absolute_uri()  # type: ignore[union-attr]
        if self.number == 2:
            return remove_query_param(url, self.page_query_param)
        return replace_query_param(url, self.page_query_param, self.number - 1)

    def get_paginated_response(self, data: Any) -> Response:
        return Response(
            {
                "count": self.count,
                "count_capped": self.count_capped,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        described = super().get_paginated_response_schema(schema)
        described["properties"]["count"]["description"] = (
            "How many rows match, counted up to CRM_LIST_COUNT_CAP (2,000); see count_capped."
        )
        described["properties"]["count_capped"] = {
            "type": "boolean",
            "description": "True when more rows match than were counted: count is then the cap.",
        }
        described["required"] = ["count", "count_capped", "results"]
        return described
