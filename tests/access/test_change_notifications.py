"""Requesters are told the outcome of their proposed changes: in the app and by e-mail,
in the language they proposed in (not the approver's), once per requester for a bulk
approval, and the e-mail only once the decision is committed."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.utils import translation

from crm.access.models import ChangeRequest
from crm.accounts.models import Notification
from tests.api_contract import detail_url
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _language_left_as_it_was() -> Iterator[None]:
    """Pages asked in English leave the thread's language as it was for later tests."""
    with translation.override(settings.LANGUAGE_CODE):
        yield


CUSTOMERS = "/api/v1/customers/"
CHANGES = "/api/v1/change-requests/"


def _propose(api: Any, user: Any, customer: Any, data: dict[str, Any], language: str) -> int:
    response = api(user).patch(
        detail_url(CUSTOMERS, customer.pk), data, format="json", HTTP_IF_MATCH='"1"', HTTP_ACCEPT_LANGUAGE=language
    )
    assert response.status_code == 202, response.content
    return int(response.json()["id"])


def test_an_approval_is_told_in_the_language_the_rep_proposed_in(
    api: Any, rep1: Any, manager: Any, django_capture_on_commit_callbacks: Any
) -> None:
    customer = CustomerFactory(owner=rep1, name="Acme Trading Co.", credit_limit=Decimal("1000.00"))
    change_id = _propose(api, rep1, customer, {"credit_limit": "5000.00"}, "en")
    assert ChangeRequest.objects.get(pk=change_id).language == "en"
    with django_capture_on_commit_callbacks(execute=True):
        decided = api(manager).post(f"{CHANGES}{change_id}/approve/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert decided.status_code == 200
    note = Notification.objects.get(user=rep1)
    assert note.title == f"Your proposed change to {customer} was approved"
    assert note.body == "The new values of credit limit are in place." and note.link == f"/customers/{customer.pk}/"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [rep1.email] and message.subject == note.title
    assert f"/customers/{customer.pk}/" in message.body


def test_a_rejection_is_told_in_chinese_with_the_reason(
    api: Any, rep1: Any, manager: Any, django_capture_on_commit_callbacks: Any
) -> None:
    customer = CustomerFactory(owner=rep1, name="杭州示例贸易有限公司")
    change_id = _propose(api, rep1, customer, {"payment_terms_days": 90}, "zh-hans")
    with django_capture_on_commit_callbacks(execute=True):
        api(manager).post(
            f"{CHANGES}{change_id}/reject/", {"reason": "账期过长"}, format="json", HTTP_ACCEPT_LANGUAGE="en"
        )
    note = Notification.objects.get(user=rep1)
    assert note.title == f"您对 {customer} 提议的修改已被驳回" and note.body == "账期过长"
    assert [message.subject for message in mail.outbox] == [note.title]
    assert "账期过长" in mail.outbox[0].body


def test_no_mail_leaves_before_the_decision_is_committed(api: Any, rep1: Any, manager: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    change_id = _propose(api, rep1, customer, {"payment_terms_days": 45}, "en")
    api(manager).post(f"{CHANGES}{change_id}/approve/")  # the test's transaction never commits
    assert Notification.objects.filter(user=rep1).count() == 1 and mail.outbox == []


def test_a_bulk_approval_tells_each_requester_once(
    api: Any,
    rep1: Any,
    rep2: Any,
    manager: Any,
    django_capture_on_commit_callbacks: Any,
    django_assert_max_num_queries: Any,
) -> None:
    mine = [CustomerFactory(owner=rep1, name=f"Customer {n}") for n in range(3)]
    ids = [_propose(api, rep1, customer, {"payment_terms_days": 60}, "en") for customer in mine]
    theirs = _propose(api, rep2, CustomerFactory(owner=rep2, name="客户乙"), {"payment_terms_days": 15}, "zh-hans")
    with django_capture_on_commit_callbacks(execute=True):
        response = api(manager).post(f"{CHANGES}bulk-approve/", {"ids": [*ids, theirs]}, format="json")
    assert response.status_code == 200 and len(response.json()["approved"]) == 4
    first = Notification.objects.get(user=rep1)
    assert first.title == "3 of your proposed changes were approved"
    assert all(f"{customer}: payment terms (days)" in first.body for customer in mine), first.body
    second = Notification.objects.get(user=rep2)
    assert second.title.startswith("您对 客户乙") and second.title.endswith("提议的修改已获批准")
    assert sorted(message.to[0] for message in mail.outbox) == sorted([rep1.email, rep2.email])


def test_a_bulk_approval_of_many_lists_the_first_and_counts_the_rest(
    api: Any, rep1: Any, manager: Any, django_capture_on_commit_callbacks: Any
) -> None:
    customers = [CustomerFactory(owner=rep1) for _ in range(22)]
    ids = [_propose(api, rep1, customer, {"payment_terms_days": 31}, "zh-hans") for customer in customers]
    with django_capture_on_commit_callbacks(execute=True):
        api(manager).post(f"{CHANGES}bulk-approve/", {"ids": ids}, format="json")
    note = Notification.objects.get(user=rep1)
    assert note.title == "您提议的 22 项修改已获批准" and note.link == "/notifications/"
    assert note.body.count("■") == 20 and "2" in note.body.splitlines()[20]
    assert len(mail.outbox) == 1
