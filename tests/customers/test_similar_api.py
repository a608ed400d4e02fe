"""The duplicate check of the API's creates: a 409 listing similar customers (only as
"ask their owner" when the caller may not see them), nothing written, ``create_anyway``;
and the same for a customer's contacts."""

from __future__ import annotations

import json
from typing import Any

import pytest

from crm.audit.models import AuditEvent
from customers.models import Contact, Customer
from tests.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/customers/"


# ------------------------------------------------------------------ the API
def _payload(**extra: Any) -> dict[str, Any]:
    return {"name": "宁波恒泰贸易有限公司", "industry": "manufacturing", "city": "宁波", "province": "浙江省", **extra}


def test_a_similar_customer_is_a_409_that_writes_nothing(api: Any, rep1: Any) -> None:
    mine = CustomerFactory(owner=rep1, name="恒泰贸易（宁波）有限公司", city="宁波", phone="0574-87654321")
    before = (Customer.objects.count(), AuditEvent.objects.count())
    response = api(rep1).post(URL, _payload(phone="+86 574 8765 4321"), format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 409, response.content
    body = response.json()
    assert body["code"] == "similar_customers" and "create_anyway" in body["message"]
    [match] = body["similar"]
    assert match["visible"] is True and (match["id"], match["code"], match["name"]) == (mine.pk, mine.code, mine.name)
    assert match["owner_name"] == str(rep1) and match["score"] >= 55
    assert {reason["code"] for reason in match["reasons"]} == {"same_phone"}
    assert "5748765432" in json.dumps(match["reasons"]) or "574 8765 4321" in json.dumps(body)
    assert (Customer.objects.count(), AuditEvent.objects.count()) == before


def test_create_anyway_in_the_body_or_the_query(api: Any, rep1: Any) -> None:
    CustomerFactory(owner=rep1, phone="0574-87654321")
    client = api(rep1)
    assert client.post(URL, _payload(phone="057487654321"), format="json").status_code == 409
    created = client.post(URL, _payload(phone="057487654321", create_anyway=True), format="json")
    assert created.status_code == 201, created.content
    assert "create_anyway" not in created.json()
    again = client.post(URL + "?create_anyway=true", _payload(name="另一家", phone="057487654321"), format="json")
    assert again.status_code == 201, again.content
    assert Customer.objects.filter(phone="057487654321").count() == 2


def test_nothing_alike_is_created_as_before(api: Any, rep1: Any) -> None:
    CustomerFactory(owner=rep1)
    assert api(rep1).post(URL, _payload(), format="json").status_code == 201


def test_the_message_is_in_the_users_language(api: Any, rep1: Any) -> None:
    CustomerFactory(owner=rep1, email="sales@hengtai.cn")
    response = api(rep1).post(URL, _payload(email="boss@hengtai.cn"), format="json", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 409
    body = response.json()
    assert body["message"].startswith("已有相似的客户") and body["similar"][0]["reasons"][0]["text"].startswith(
        "邮箱域名相同"
    )


def _secret_values(customer: Customer) -> list[str]:
    return [customer.code, customer.name, customer.phone, customer.tax_id, "87654321", "330100MA2B3C4D5"]


def _another_reps_customer(rep2: Any) -> Customer:
    return CustomerFactory(
        owner=rep2,
        name="宁波恒泰贸易有限公司",
        code="S0424242",
        city="宁波",
        phone="0574-87654321",
        tax_id="91330100MA2B3C4D5E",
        email="boss@hengtai.cn",
    )


def test_a_rep_does_not_learn_another_reps_customer_from_the_api(api: Any, rep1: Any, rep2: Any, manager: Any) -> None:
    theirs = _another_reps_customer(rep2)
    response = api(rep1).post(
        URL,
        _payload(
            # A rep may not write a tax id (the default field policy): the other keys.
            name="宁波恒泰贸易股份有限公司",
            phone="+86 574 8765 4321",
            email="sales@hengtai.cn",
        ),
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 409, response.content
    [match] = response.json()["similar"]
    assert match == {
        "visible": False,
        "id": None,
        "code": None,
        "name": None,
        "owner_name": str(rep2),
        "manager_name": str(manager),
        "score": None,
        "reasons": match["reasons"],
    }
    assert {reason["text"] for reason in match["reasons"]} == {
        "same phone number",
        "same e-mail domain",
        "same name",
    }
    text = response.content.decode()
    for secret in _secret_values(theirs):
        assert secret not in text
    assert f'"id": {theirs.pk}' not in json.dumps(response.json())
    # Their manager sees it as any record of the team.
    seen = api(manager).post(URL, _payload(phone="057487654321"), format="json").json()["similar"][0]
    assert (seen["visible"], seen["id"], seen["code"]) == (True, theirs.pk, theirs.code)


# ------------------------------------------------------------------ contacts
def test_a_similar_contact_of_the_same_customer_is_a_409(api: Any, rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    existing = ContactFactory(customer=customer, name="王芳", mobile="13812345678", email="wang@hengtai.cn")
    ContactFactory(customer=CustomerFactory(owner=rep1), name="李雷", mobile="13900001111")
    client = api(rep1)
    url = "/api/v1/contacts/"
    for similar in ({"mobile": "+86 138 1234 5678"}, {"email": "WANG@hengtai.cn"}, {"name": "王 芳"}):
        response = client.post(url, {"customer": customer.pk, "name": "新人", **similar}, format="json")
        assert response.status_code == 409, (similar, response.content)
        body = response.json()
        assert body["code"] == "similar_contacts" and [m["id"] for m in body["similar"]] == [existing.pk]
    # Another customer's contact does not count.
    other = client.post(url, {"customer": customer.pk, "name": "李雷", "mobile": "13900001111"}, format="json")
    assert other.status_code == 201
    anyway = {"customer": customer.pk, "name": "王芳", "create_anyway": True}
    assert client.post(url, anyway, format="json").status_code == 201
    assert Contact.objects.filter(customer=customer, name="王芳").count() == 2
