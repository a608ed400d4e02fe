"""Each order that the big lists offer has an index of its own, ending on the id as the
list's order does (``crm.access.filters.tie_broken``): a page of a whole company's rows is
read from one end of it, either way, not from a sort of every row (at a million
customers, before: 2-4 s for the follow-ups, 7-10 s for the contacts, 33-43 s for the
orders)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db.models import Index

from customers.api.views import ActivityViewSet, ContactViewSet, CustomerViewSet
from tiers.api.views import TierChangeViewSet
from transactions.api.views import PaymentViewSet, TransactionViewSet

#: Lists whose tables grow with the book, each order of which is kept by an index.
BIG_LISTS = [CustomerViewSet, ContactViewSet, ActivityViewSet, TransactionViewSet, PaymentViewSet, TierChangeViewSet]
#: Columns whose own index serves: a customer's creation time is its own (each customer is
#: stamped as it is written), so the few ties are sorted by id as they come.  Contacts
#: loaded in one statement share one, hence their (created_at, id).
OWN_INDEX_ENOUGH = {(CustomerViewSet.model, "created_at")}


def _orders(model: Any) -> set[tuple[str, ...]]:
    """The columns of each plain index of ``model``, in order."""
    return {
        tuple(model._meta.get_field(name.lstrip("-")).attname for name in index.fields)
        for index in model._meta.indexes
        if isinstance(index, Index) and index.fields and not index.condition
    }


@pytest.mark.parametrize("viewset", BIG_LISTS, ids=lambda v: v.__name__)
def test_every_offered_order_has_an_index_ending_on_the_id(viewset: Any) -> None:
    indexes = _orders(viewset.model)
    columns = getattr(viewset, "ordering_columns", {})
    default = [viewset.model._meta.get_field(term.lstrip("-")).attname for term in viewset.ordering]
    assert any(default[: len(index)] == list(index) for index in indexes)  # the leading columns, at least
    for name in viewset.ordering_fields:
        if "__" in name:
            continue  # a related record's column (a contact's customer name): not indexed here
        field = viewset.model._meta.get_field(columns.get(name, name))
        column = field.attname
        if column == "id" or field.unique:  # a unique column's own index orders it totally
            continue
        if (viewset.model, column) in OWN_INDEX_ENOUGH:
            continue
        assert (column, "id") in indexes, name
