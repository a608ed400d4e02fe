"""Service records, feedback and satisfaction: the shared contract plus their rules and the NPS summary."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from feedback.models import Feedback, SatisfactionResponse, ServiceRecord
from tests.api_contract import ResourceContract, detail_url, ids_of
from tests.factories import (
    CustomerFactory,
    FeedbackFactory,
    SatisfactionResponseFactory,
    ServiceRecordFactory,
)

pytestmark = pytest.mark.django_db
SUMMARY = "/api/v1/satisfaction-responses/summary/"


class TestServiceRecordContract(ResourceContract):
    url = "/api/v1/service-records/"
    model = ServiceRecord
    update_payload = {"result": "follow_up"}
    invalid_payloads = [
        ({"service_type": "magic"}, "service_type"),
        ({"rating": 6}, "rating"),
        ({"rating": 0}, "rating"),
        ({"service_date": "2999-01-01"}, "service_date"),
        ({"customer": 999999}, "customer"),
    ]

    def make(self, owner: Any) -> ServiceRecord:
        return ServiceRecordFactory(customer=CustomerFactory(owner=owner))

    def valid_payload(self, owner: Any) -> dict[str, Any]:
        return {
            "customer": CustomerFactory(owner=owner).pk,
            "service_date": "2026-11-20",
            "service_type": "installation",
            "content": "安装调试两台设备",
            "rating": 5,
        }


class TestFeedbackContract(ResourceContract):
    url = "/api/v1/feedback/"
    model = Feedback
    update_payload = {"response": "已安排工程师上门", "status": "resolved"}
    invalid_payloads = [
        ({"kind": "rant"}, "kind"),
        ({"subject": ""}, "subject"),
        ({"status": "closed"}, "response"),
        ({"received_at": "yesterday"}, "received_at"),
    ]

    def make(self, owner: Any) -> Feedback:
        return FeedbackFactory(customer=CustomerFactory(owner=owner))

    def valid_payload(self, owner: Any) -> dict[str, Any]:
        return {
            "customer": CustomerFactory(owner=owner).pk,
            "kind": "complaint",
            "channel": "wechat",
            "subject": "到货延迟三天",
        }


class TestSatisfactionContract(ResourceContract):
    url = "/api/v1/satisfaction-responses/"
    model = SatisfactionResponse
    update_payload = {"csat": 2}
    invalid_payloads = [
        ({"csat": 6}, "csat"),
        ({"nps": 11}, "nps"),
        ({"csat": None, "nps": None}, "csat"),
        ({"method": "telepathy"}, "method"),
    ]

    def make(self, owner: Any) -> SatisfactionResponse:
        return SatisfactionResponseFactory(customer=CustomerFactory(owner=owner))

    def valid_payload(self, owner: Any) -> dict[str, Any]:
        return {"customer": CustomerFactory(owner=owner).pk, "csat": 4, "nps": 8, "method": "phone"}


def test_service_record_defaults_to_the_recording_user(api: Any, rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    response = api(rep1).post(
        "/api/v1/service-records/",
        {"customer": customer.pk, "service_type": "training", "service_date": timezone.localdate().isoformat()},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["staff"] == rep1.pk and response.json()["staff_name"] == str(rep1)


def test_feedback_defaults_and_response_flow(api: Any, rep1: Any, manager: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    client = api(manager)
    created = client.post(
        "/api/v1/feedback/", {"customer": customer.pk, "kind": "complaint", "subject": "发票错误"}, format="json"
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["handler"] == rep1.pk and body["received_at"] and body["status"] == "new"
    url = detail_url("/api/v1/feedback/", body["id"])
    answered = client.patch(url, {"response": "已重开发票"}, format="json", HTTP_IF_MATCH='"1"')
    assert answered.json()["status"] == "in_progress" and answered.json()["responded_at"]
    assert client.get("/api/v1/feedback/", {"open": "true"}).json()["count"] == 1
    resolved = client.patch(url, {"status": "resolved"}, format="json", HTTP_IF_MATCH='"2"')
    assert resolved.status_code == 200
    assert client.get("/api/v1/feedback/", {"open": "true"}).json()["count"] == 0


def test_rep_cannot_delete_a_complaint(api: Any, rep1: Any) -> None:
    complaint = FeedbackFactory(customer=CustomerFactory(owner=rep1), kind="complaint")
    assert api(rep1).delete(detail_url("/api/v1/feedback/", complaint.pk)).status_code == 403
    assert Feedback.objects.filter(pk=complaint.pk).exists()


def test_filters_and_ordering(api: Any, rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    today = timezone.localdate()
    old = ServiceRecordFactory(customer=customer, service_date=today - dt.timedelta(days=40), rating=2)
    new = ServiceRecordFactory(customer=customer, service_date=today, rating=5, service_type="maintenance")
    client = api(rep1)
    url = "/api/v1/service-records/"
    assert ids_of(client.get(url, {"rating_max": 3})) == {old.pk}
    assert ids_of(client.get(url, {"service_type": "maintenance"})) == {new.pk}
    assert [r["id"] for r in client.get(url, {"ordering": "service_date"}).json()["results"]] == [old.pk, new.pk]


def test_summary_is_exact_and_scoped(api: Any, rep1: Any, outsider: Any, django_assert_max_num_queries: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    # NPS answers: 3 promoters (9, 10, 10), 2 passives (7, 8), 5 detractors (0, 3, 5, 6, 6) → 30% − 50% = −20.
    for csat, nps in [(5, 9), (5, 10), (4, 10), (4, 7), (3, 8), (2, 0), (1, 3), (3, 5), (2, 6), (None, 6)]:
        SatisfactionResponseFactory(customer=customer, csat=csat, nps=nps)
    SatisfactionResponseFactory(customer=customer, csat=5, nps=None)
    SatisfactionResponseFactory(customer=CustomerFactory(owner=outsider), csat=1, nps=0)
    with django_assert_max_num_queries(3):
        body = api(rep1).get(SUMMARY).json()
    assert body["count"] == 11 and body["nps_count"] == 10
    assert (body["promoters"], body["passives"], body["detractors"]) == (3, 2, 5)
    assert body["nps"] == -20.0
    assert body["csat_count"] == 10
    assert body["csat_average"] == 3.4
    assert body["csat_distribution"] == {"1": 1, "2": 2, "3": 2, "4": 2, "5": 3}
    assert api(rep1).get(SUMMARY, {"csat_min": 5}).json()["count"] == 3
    assert api(outsider).get(SUMMARY).json()["count"] == 1
