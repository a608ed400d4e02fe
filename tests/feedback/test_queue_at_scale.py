"""What keeps the feedback and service queues quick over a manager's whole team: the
handler filter probes the people who may hold the work instead of reading every row, and
the status counts stop at the list cap."""

from __future__ import annotations

from typing import Any

import pytest

from crm.accounts.choices import Role
from feedback import selectors
from feedback.selectors import QueueFilters
from tests.factories import CustomerFactory, FeedbackFactory, ServiceRecordFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_the_handler_filter_lists_who_holds_the_queues_work(
    rep1: Any, rep2: Any, manager: Any, outsider: Any, admin_user: Any
) -> None:
    mine = CustomerFactory(owner=rep1, team=rep1.team)
    FeedbackFactory(customer=mine, handler=rep1)
    FeedbackFactory(customer=mine, handler=admin_user)
    FeedbackFactory(customer=CustomerFactory(owner=outsider, team=outsider.team), handler=outsider)
    ServiceRecordFactory(customer=mine, staff=rep2)

    def handlers(user: Any, field: str = "handler") -> list[str]:
        if field == "handler":
            rows = selectors.feedback_queue(user=user, filters=QueueFilters())
        else:
            rows = selectors.service_queue(user=user, filters=QueueFilters())
        return [person.username for person in selectors.handlers_in(rows=rows, field=field, user=user)]

    assert handlers(manager) == sorted(["rep1", admin_user.username])  # not rep2, who holds none
    assert handlers(rep1) == sorted(["rep1", admin_user.username])
    assert handlers(admin_user) == sorted(["rep1", admin_user.username, "outsider"])
    assert handlers(manager, "staff") == ["rep2"]
    # A handler outside the manager's people (moved to another team) is not offered.
    FeedbackFactory(customer=mine, handler=UserFactory(username="elsewhere", role=Role.REP))
    assert "elsewhere" not in handlers(manager) and "elsewhere" in handlers(admin_user)


def test_the_status_counts_stop_at_the_cap(rep1: Any, settings: Any) -> None:
    customer = CustomerFactory(owner=rep1, team=rep1.team)
    for _n in range(3):
        FeedbackFactory(customer=customer)
        ServiceRecordFactory(customer=customer)
    feedback = selectors.feedback_queue(user=rep1, filters=QueueFilters())
    service = selectors.service_queue(user=rep1, filters=QueueFilters())
    settings.CRM_LIST_COUNT_CAP = 3
    assert selectors.feedback_counts(rows=feedback)["all"] == 3
    assert selectors.service_counts(rows=service)["all"] == 3
    settings.CRM_LIST_COUNT_CAP = 2
    assert selectors.feedback_counts(rows=feedback) == {selectors.PAST_CAP: 2}
    assert selectors.service_counts(rows=service) == {selectors.PAST_CAP: 2}


def test_many_people_are_picked_by_typed_user_name(client: Any, rep1: Any, admin_user: Any, monkeypatch: Any) -> None:
    """Over the picker's limit the handler filter and the bulk assignment stop listing
    every person: a user name is typed, with the first of them suggested."""
    from crm.accounts import selectors as people
    from feedback.models import Feedback

    customer = CustomerFactory(owner=rep1, team=rep1.team)
    helpers = [UserFactory(username=f"helper{n}", role=Role.REP) for n in range(3)]
    rows = [FeedbackFactory(customer=customer, handler=person) for person in helpers]
    client.force_login(admin_user)
    small = client.get("/service/feedback/?status=")
    assert not small.context["handlers"].typed and 'data-testid="handler-name"' not in small.content.decode()
    assert [p.username for p in small.context["handlers"].people] == ["helper0", "helper1", "helper2"]

    monkeypatch.setattr(people, "PICKER_LIMIT", 2)
    for address in ("/service/feedback/?status=", "/service/records/?status="):
        page = client.get(address)
        html = page.content.decode()
        assert page.status_code == 200 and 'data-testid="bulk-person-name"' in html
        assert len(page.context["bulk_people"].people) == 2 and page.context["bulk_people"].typed
    page = client.get("/service/feedback/?status=")
    html = page.content.decode()
    assert page.context["handlers"].typed and 'data-testid="handler-name"' in html
    assert f'<option value="{helpers[0].pk}"' not in html  # no select of everyone
    typed = client.get("/service/feedback/?status=&handler_name=helper2")
    assert [item["obj"].pk for item in typed.context["items"]] == [rows[2].pk]
    assert client.get("/service/feedback/?status=&handler_name=nobody-such").context["items"] == []

    done = client.post(
        "/service/feedback/bulk/", {"ids": [rows[0].pk], "act": "assign", "person": "me", "person_name": "rep1"}
    )
    assert done.status_code == 302 and Feedback.objects.get(pk=rows[0].pk).handler == rep1
    refused = client.post(
        "/service/feedback/bulk/", {"ids": [rows[0].pk], "act": "assign", "person_name": admin_user.username}
    )
    assert refused.status_code == 422 and "没有这个用户" in refused.content.decode()
