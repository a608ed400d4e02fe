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


@pytest.mark.parametrize("url", ["/service/feedback/", "/service/records/"])
def test_past_the_cap_the_all_tab_counts_once_and_says_there_are_more(
    client: Any, manager: Any, rep1: Any, settings: Any, url: str
) -> None:
    """Past the cap no tab shows a count, and the "All" tab's page takes the check
    against the cap as its own count ("more than 4") instead of counting again."""
    _fill(rep1)
    settings.CRM_LIST_COUNT_CAP = 4
    client.force_login(manager)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, {"status": ""})
    assert response.status_code == 200
    paginator = response.context["page"].paginator
    assert (paginator.count, paginator.more) == (4, True)
    assert response.context["counts"] == {}
    assert 'class="badge text-bg-light"' not in response.content.decode()
    counted = [q["sql"] for q in queries.captured_queries if q["sql"].startswith(CAPPED_COUNT)]
    assert len(counted) == 1, counted
    # A tab of fewer rows than the cap still counts its own.
    assert client.get(url, {"status": "open"}).context["page"].paginator.more is False
