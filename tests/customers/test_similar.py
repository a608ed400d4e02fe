"""The duplicate check while a customer is created (customers.similar): each key over
the whole book, the order of the matches, and the cost of a lookup."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.similar import Proposal, similar_customers
from tests.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def _found(user: Any, **proposal: Any) -> dict[int, set[str]]:
    """Each match's customer and the codes of its reasons."""
    matches = similar_customers(user=user, proposal=Proposal(**proposal))
    return {match.customer.pk: {reason["code"] for reason in match.reasons} for match in matches}


# ------------------------------------------------------------------ the lookup
def test_a_tax_id_is_found_by_its_core_old_in_new_and_new_in_old(rep1: Any) -> None:
    unified = CustomerFactory(owner=rep1, tax_id="91330100MA2B3C4D5E")
    old = CustomerFactory(owner=rep1, tax_id="440300123456789")
    CustomerFactory(owner=rep1, tax_id="91330100MA2B3C4D6E")  # another company
    assert _found(rep1, tax_id="330100MA2B3C4D5") == {unified.pk: {"same_tax_id"}}
    assert _found(rep1, tax_id="92330100MA2B3C4D5X") == {unified.pk: {"same_tax_id"}}
    assert _found(rep1, tax_id="91440300123456789X") == {old.pk: {"same_tax_id"}}
    assert _found(rep1, tax_id="91330100MA2B3C4D7E") == {}


def test_a_phone_is_found_by_its_digits_however_written(rep1: Any) -> None:
    landline = CustomerFactory(owner=rep1, phone="+86 571 8800 1234")
    mobile = CustomerFactory(owner=rep1, phone="138 0998 5018")
    through_contact = ContactFactory(customer=CustomerFactory(owner=rep1), mobile="139-1111-2222").customer
    assert _found(rep1, phone="0571-88001234") == {landline.pk: {"same_phone"}}
    assert _found(rep1, phone="+8613809985018") == {mobile.pk: {"same_phone"}}
    assert _found(rep1, phone="13911112222") == {through_contact.pk: {"same_phone"}}
    assert _found(rep1, name="新公司", contact_phones=["+86 138 0998 5018"]) == {mobile.pk: {"same_phone"}}
    assert _found(rep1, phone="0571-88001235") == {}


def test_an_email_and_a_company_domain_but_not_a_free_mail_one(rep1: Any) -> None:
    own = CustomerFactory(owner=rep1, email="Li.Ming@MingYuan.com.cn")
    CustomerFactory(owner=rep1, email="mingyuan@163.com")
    assert _found(rep1, email="li.ming@mingyuan.com.cn") == {own.pk: {"same_email", "same_domain"}}
    assert _found(rep1, email="sales@mingyuan.com.cn") == {own.pk: {"same_domain"}}
    assert _found(rep1, email="sales@mingyuan.com") == {}
    assert _found(rep1, email="someone.else@163.com") == {}
    contact = ContactFactory(customer=CustomerFactory(owner=rep1), email="buyer@hengtai.cn")
    assert _found(rep1, contact_emails=["boss@HENGTAI.cn"]) == {contact.customer_id: {"same_domain"}}


def test_the_same_name_key_anywhere(rep1: Any) -> None:
    beijing = CustomerFactory(owner=rep1, name="明远科技有限公司", city="北京", province="北京市")
    CustomerFactory(owner=rep1, name="明达科技有限公司", city="北京", province="北京市")
    found = similar_customers(
        user=rep1, proposal=Proposal(name="（杭州）明远科技股份有限公司", city="杭州", province="浙江省")
    )
    assert [(match.customer, [r["code"] for r in match.reasons]) for match in found] == [(beijing, ["same_name"])]
    assert found[0].reasons[0]["params"] == {"likeness": 1, "place": ""}


def test_a_name_alike_in_the_same_city_but_not_in_another_province(rep1: Any) -> None:
    name = "Hangzhou Mingyuan Advanced Materials Technology Co., Ltd."
    here = CustomerFactory(owner=rep1, name=name, city="杭州", province="浙江省")
    CustomerFactory(owner=rep1, name=name.replace("Hangzhou", "Ningbo"), city="宁波", province="浙江省")
    CustomerFactory(owner=rep1, name=name, city="", province="江苏省")
    proposal = {"name": "Hangzhou Mingyuan Advanced Material Technology Ltd", "province": "浙江省"}
    found = similar_customers(user=rep1, proposal=Proposal(city="杭州", **proposal))
    # The same key in Jiangsu is the same name (anywhere); the alike one only in Hangzhou.
    codes = {match.customer.city or match.customer.province: match.reasons for match in found}
    assert codes["杭州"][0]["code"] == "similar_name" and codes["杭州"][0]["params"]["likeness"] >= 0.8
    assert "江苏省" not in codes and "宁波" not in codes
    assert here.pk in {match.customer.pk for match in found}
    assert _found(rep1, city="南京", **{**proposal, "province": "江苏省"}) == {}


def test_best_first_and_at_most_five(rep1: Any) -> None:
    for n in range(7):
        CustomerFactory(owner=rep1, email=f"sales{n}@hengtai.cn")
    strong = CustomerFactory(owner=rep1, tax_id="91330100MA2B3C4D5E", email="x@hengtai.cn")
    found = similar_customers(user=rep1, proposal=Proposal(tax_id="91330100MA2B3C4D5E", email="y@hengtai.cn"))
    assert len(found) == 5 and found[0].customer == strong
    assert [match.score for match in found] == sorted((match.score for match in found), reverse=True)


def test_the_lookup_is_five_queries_whatever_it_finds(rep1: Any, rep2: Any) -> None:
    for n in range(6):
        customer = CustomerFactory(owner=rep1 if n % 2 else rep2, phone="0571-88001234", name=f"恒泰贸易 {n}")
        ContactFactory(customer=customer, mobile="13911112222", email=f"a{n}@hengtai.cn")
    proposal = Proposal(
        name="恒泰贸易 1",
        tax_id="91330100MA2B3C4D5E",
        phone="+86 571 8800 1234",
        email="boss@hengtai.cn",
        city="上海",
        contact_phones=["13911112222"],
        contact_emails=["b@hengtai.cn"],
    )
    with CaptureQueriesContext(connection) as queries:
        found = similar_customers(user=rep1, proposal=proposal)
        assert len(found) == 5 and {match.visible for match in found} == {True, False}
    # customers by key, contacts by key, names, the names' likeness, the matches with their scope
    assert len(queries) == 5, [query["sql"][:120] for query in queries]


def test_the_lookup_uses_the_indexes(rep1: Any) -> None:
    """Each key is looked up through an index, never a scan of the whole table (checked
    with sequential scans made expensive, as on a large book)."""
    CustomerFactory(owner=rep1, phone="0571-88001234", email="a@hengtai.cn", tax_id="91330100MA2B3C4D5E")
    proposal = Proposal(name="恒泰贸易", tax_id="330100MA2B3C4D5", phone="057188001234", email="b@hengtai.cn")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    with CaptureQueriesContext(connection) as queries:
        similar_customers(user=rep1, proposal=proposal)
    with connection.cursor() as cursor:
        for query in queries.captured_queries[:3]:
            cursor.execute("EXPLAIN " + query["sql"])
            plan = "\n".join(row[0] for row in cursor.fetchall())
            assert "Seq Scan" not in plan, plan
