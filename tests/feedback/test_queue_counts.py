"""A queue page counts its rows once: the tab's count comes from the counts per status."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from feedback.choices import FeedbackStatus, ServiceResult
from tests.factories import CustomerFactory, FeedbackFactory, ServiceRecordFactory

pytestmark = pytest.mark.django_db
CAPPED_COUNT = "SELECT COUNT(*) FROM (SELECT"


def _fill(rep: Any) -> None:
    for index, status in enumerate(["new", "new", "in_progress", "resolved", "closed", "new"]):
        FeedbackFactory(customer=CustomerFactory(owner=rep, team=rep.team), handler=rep, status=status)
        result = ["resolved", "partial", "unresolved"][index % 3]
        ServiceRecordFactory(customer=CustomerFactory(owner=rep, team=rep.team), staff=rep, result=result)


@pytest.mark.parametrize(
    ("url", "tabs"),
    [
        ("/service/feedback/", ["", "open", *FeedbackStatus.values]),
        ("/service/records/", ["", "open", *ServiceResult.values]),
    ],
)
def test_every_tab_shows_its_exact_count_from_one_counting(
    client: Any, manager: Any, rep1: Any, url: str, tabs: list[str]
) -> None:
    _fill(rep1)
    client.force_login(manager)
    for tab in tabs:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, {"status": tab})
        assert response.status_code == 200
        page = response.context["page"]
        counts = response.context["counts"]
        expected = counts["all" if tab == "" else tab]
        assert page.paginator.count == expected == len(response.context["items"]), tab
        counted = [q["sql"] for q in queries.captured_queries if q["sql"].startswith(CAPPED_COUNT)]
        assert len(counted) == 1, (tab, counted)  # the check against the cap, not again for the page
