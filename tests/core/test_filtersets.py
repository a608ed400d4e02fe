"""API filters on a record's own columns never make a list SELECT DISTINCT."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.access.registry import all_resources
from tests.factories import CustomerFactory


def test_no_filter_on_a_record_s_own_column_is_distinct() -> None:
    distinct = [
        f"{resource.name}?{name}"
        for resource in all_resources()
        if getattr(resource.viewset, "filterset_class", None) is not None
        for name, flt in resource.viewset.filterset_class.base_filters.items()
        if flt.distinct and "__" not in (flt.field_name or name)
    ]
    assert distinct == []


@pytest.mark.django_db
def test_a_choice_filter_reads_a_page_without_distinct(api: Any, rep1: Any) -> None:
    wanted = CustomerFactory(owner=rep1, kind="government")
    CustomerFactory(owner=rep1, kind="enterprise")
    with CaptureQueriesContext(connection) as queries:
        body = api(rep1).get("/api/v1/customers/", {"kind": ["government", "partner"]}).json()
    assert [row["id"] for row in body["results"]] == [wanted.pk]
    assert not any("DISTINCT" in q["sql"] for q in queries.captured_queries)
