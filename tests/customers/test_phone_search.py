"""A phone number is found however it was typed and however it is searched for: a
contact's mobile or office phone, or the company's switchboard, on the customer list and
in the API, within the caller's scope and field policy, on trigram indexes of its digits."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from crm.access.models import FieldPermission
from crm.core.phones import phone_digits
from tests.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("term", "digits"),
    [
        ("138-0998-5018", "13809985018"),
        ("+86 138 0998 5018", "13809985018"),
        ("0086 13809985018", "13809985018"),
        ("8613809985018", "13809985018"),
        ("(0571) 8800-1234", "057188001234"),
        ("８８００ １２３４", "88001234"),
        ("5018", "5018"),
        ("华东科技", None),
        ("C0000123", None),
        ("12", None),
        ("138-0998-50x8", None),
    ],
)
def test_what_counts_as_a_phone_number(term: str, digits: str | None) -> None:
    assert phone_digits(term) == digits


@pytest.fixture
def book(rep1: Any, rep2: Any) -> dict[str, Any]:
    mine = CustomerFactory(owner=rep1, name="号码测试甲公司", phone="0571-8800 1234")
    ContactFactory(customer=mine, name="王经理", mobile="+86 138-0998-5018", phone="")
    office = CustomerFactory(owner=rep1, name="号码测试乙公司", phone="")
    ContactFactory(customer=office, name="李工", mobile="", phone="(021) 6123 4567")
    theirs = CustomerFactory(owner=rep2, name="号码测试丙公司", phone="0571-88001234")
    ContactFactory(customer=theirs, name="赵总", mobile="13809985018")
    return {"mine": mine, "office": office, "theirs": theirs}


SEARCHES = [
    ("13809985018", "mine"),
    ("138 0998 5018", "mine"),
    ("+86 138-0998-5018", "mine"),
    ("0998-5018", "mine"),
    ("0571 88001234", "mine"),
    ("8800-1234", "mine"),
    ("021-61234567", "office"),
    ("61234567", "office"),
]


@pytest.mark.parametrize(("term", "who"), SEARCHES)
def test_the_customer_list_finds_a_phone_however_typed(
    client: Any, rep1: Any, book: dict[str, Any], term: str, who: str
) -> None:
    client.force_login(rep1)
    rows = client.get("/customers/", {"q": term}).context["table"]["rows"]
    assert [row["obj"].pk for row in rows] == [book[who].pk], term  # never the other rep's


@pytest.mark.parametrize(("term", "who"), SEARCHES)
def test_the_api_finds_a_phone_however_typed(api: Any, rep1: Any, book: dict[str, Any], term: str, who: str) -> None:
    found = api(rep1).get("/api/v1/customers/", {"search": term}).json()["results"]
    assert [item["id"] for item in found] == [book[who].pk], term


def test_the_contacts_api_finds_a_mobile_however_typed(api: Any, rep1: Any, book: dict[str, Any]) -> None:
    found = api(rep1).get("/api/v1/contacts/", {"search": "+86 138 0998 5018"}).json()["results"]
    assert [item["name"] for item in found] == ["王经理"]
    assert api(rep1).get("/api/v1/contacts/", {"search": "王经理"}).json()["results"][0]["name"] == "王经理"


def test_a_phone_the_caller_may_not_read_is_not_searched(api: Any, rep1: Any, book: dict[str, Any]) -> None:
    FieldPermission.objects.update_or_create(
        resource="contacts", field="mobile", role="rep", defaults={"level": "masked"}
    )
    FieldPermission.objects.update_or_create(
        resource="customers", field="phone", role="rep", defaults={"level": "hidden"}
    )
    assert api(rep1).get("/api/v1/customers/", {"search": "13809985018"}).json()["results"] == []
    assert api(rep1).get("/api/v1/customers/", {"search": "88001234"}).json()["results"] == []
    # What may be read still is.
    found = api(rep1).get("/api/v1/customers/", {"search": "61234567"}).json()["results"]
    assert [item["id"] for item in found] == [book["office"].pk]


def test_the_digits_are_searched_on_their_indexes(book: dict[str, Any]) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for table, column, index in [
            ("customers_contact", "mobile", "contact_mobile_digits_trgm"),
            ("customers_contact", "phone", "contact_phone_digits_trgm"),
            ("customers_customer", "phone", "customer_phone_digits_trgm"),
        ]:
            cursor.execute(
                f"EXPLAIN SELECT id FROM {table} WHERE regexp_replace({column}, '[^0-9]', '', 'g') LIKE %s",
                ["%09985018%"],
            )
            plan = "\n".join(line for (line,) in cursor.fetchall())
            assert index in plan, plan
