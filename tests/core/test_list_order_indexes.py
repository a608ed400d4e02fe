"""Each order that the big lists offer has an index of its own, ending on the id as the
list's order does (``crm.access.filters.tie_broken``): a page of a whole company's rows is
read from one end of it, either way, not from a sort of every row (2-4 s at a million
customers for the follow-ups, before)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db.models import Index

from customers.api.views import ActivityViewSet, CustomerViewSet

#: Lists whose tables grow with the book, each order of which is kept by an index.
BIG_LISTS = [CustomerViewSet, ActivityViewSet]


def _orders(model: Any) -> set[tuple[str, ...]]:
    return {
        tuple(index.fields)
        for index in model._meta.indexes
        if isinstance(index, Index) and index.fields and not index.condition
    }


@pytest.mark.parametrize("viewset", BIG_LISTS, ids=lambda v: v.__name__)
def test_every_offered_order_has_an_index_ending_on_the_id(viewset: Any) -> None:
    indexes = _orders(viewset.model)
    columns = getattr(viewset, "ordering_columns", {})
    default = tuple(term.lstrip("-") for term in viewset.ordering)
    assert default in indexes
    for name in viewset.ordering_fields:
        field = viewset.model._meta.get_field(columns.get(name, name))
        column = field.attname
        if column == "id" or field.unique:  # a unique column's own index orders it totally
            continue
        if field.db_index:  # the column's own index, its ties sorted by id as they come (incremental sort)
            continue
        assert (columns.get(name, name), "id") in indexes or (column, "id") in indexes, name
