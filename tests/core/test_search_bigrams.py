"""A term too short for trigrams (most Chinese brand names: 华为, 格力) is found on the
bigram indexes, by the API's search of every list and by the workspace's customer list,
with the same answers as a plain substring match and under the field policy."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.access.models import FieldPermission
from crm.core.search import needs_bigrams, text_match
from customers.models import Contact, Customer
from tests.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def _bigrams(*texts: str | None) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT crm_bigrams(VARIADIC %s::text[])", [list(texts)])
        return sorted(cursor.fetchone()[0])


def test_the_pieces_are_every_two_characters_in_a_row_of_each_text() -> None:
    assert _bigrams("深圳华为", "AB") == sorted(["深圳", "圳华", "华为", "AB"])
    assert _bigrams("华", "", None) == []  # nothing shorter than two, and no piece across texts
    assert _bigrams("A B") == sorted(["A ", " B"])


@pytest.mark.parametrize(
    ("term", "short"),
    [("华为", True), ("ab", True), ("A-B", True), ("华", False), ("华为技", False), ("ltd", False), ("a_b", True)],
)
def test_a_term_takes_the_bigrams_only_when_trigrams_cannot_find_it(term: str, short: bool) -> None:
    assert needs_bigrams(term) is short


def _plan(queryset: Any) -> str:
    """The plan of ``queryset`` (unordered) with only bitmap scans priced in: which index
    finds its rows, whatever the few rows of a test database make the other plans cost."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        plan = queryset.order_by().explain()
        cursor.execute("RESET enable_seqscan")
        cursor.execute("RESET enable_indexscan")
    return plan


def test_a_short_term_is_found_on_the_customers_and_the_contacts_index(rep1: Any) -> None:
    customers = Customer.objects.filter(text_match(Customer, ["name__icontains", "code__icontains"], "华为"))
    assert "customer_search_bigrams" in _plan(customers)
    contacts = Contact.objects.filter(text_match(Contact, ["name__icontains", "email__icontains"], "经理"))
    assert "contact_search_bigrams" in _plan(contacts)
    # A longer term keeps to the trigram indexes: no bigram condition is added.
    assert "crm_bigrams" not in str(Customer.objects.filter(text_match(Customer, ["name__icontains"], "华为技")).query)


def _found(api: Any, user: Any, url: str, term: str) -> set[str]:
    response = api(user).get(url, {"search": term, "page_size": 100})
    assert response.status_code == 200, response.content
    return {row["name"] for row in response.json()["results"]}


def test_the_api_finds_a_two_character_name_anywhere_in_any_searched_column(api: Any, rep1: Any) -> None:
    CustomerFactory(owner=rep1, name="深圳市华为技术有限公司")
    CustomerFactory(owner=rep1, name="华为终端")
    CustomerFactory(owner=rep1, name="荣耀", short_name="华为荣耀")
    CustomerFactory(owner=rep1, name="华南为民贸易")  # both characters, never side by side
    CustomerFactory(owner=rep1, name="Abc Trading", code="ZXQ-9")
    with CaptureQueriesContext(connection) as queries:
        found = _found(api, rep1, "/api/v1/customers/", "华为")
    assert found == {"深圳市华为技术有限公司", "华为终端", "荣耀"}
    assert any("crm_bigrams" in query["sql"] for query in queries.captured_queries)
    assert _found(api, rep1, "/api/v1/customers/", "bc") == {"Abc Trading"}  # in any case
    assert _found(api, rep1, "/api/v1/customers/", "q-") == {"Abc Trading"}  # the code
    assert _found(api, rep1, "/api/v1/customers/", "华为 深圳") == {"深圳市华为技术有限公司"}  # every term
    assert _found(api, rep1, "/api/v1/customers/", "华") >= {"华为终端", "华南为民贸易"}  # one character: a scan


def test_the_search_never_matches_a_column_the_caller_may_not_read(api: Any, rep1: Any, manager: Any) -> None:
    """The index covers every searched column; the look-ups say which ones match."""
    CustomerFactory(owner=rep1, name="荣耀", short_name="华为荣耀")
    FieldPermission.objects.create(resource="customers", field="short_name", role="rep", level="masked")
    assert _found(api, rep1, "/api/v1/customers/", "华为") == set()
    assert _found(api, manager, "/api/v1/customers/", "华为") == {"荣耀"}


def test_the_contacts_api_finds_a_two_character_title(api: Any, rep1: Any, rep2: Any) -> None:
    mine = CustomerFactory(owner=rep1)
    ContactFactory(customer=mine, name="王芳", title="财务总监")
    ContactFactory(customer=mine, name="李强", title="采购经理")
    ContactFactory(customer=CustomerFactory(owner=rep2), name="赵敏", title="财务主管")  # not rep1's
    assert _found(api, rep1, "/api/v1/contacts/", "财务") == {"王芳"}
    assert _found(api, rep1, "/api/v1/contacts/", "王芳") == {"王芳"}
    assert _found(api, rep1, "/api/v1/contacts/", "财务总监") == {"王芳"}  # any length, on the same index


def test_a_contact_is_found_by_its_customers_name_through_the_customers_index(api: Any, rep1: Any, rep2: Any) -> None:
    """The customers matching the term are found first, on their own index, and the
    contacts of those of them the caller sees are listed: no join of every contact."""
    ContactFactory(customer=CustomerFactory(owner=rep1, name="深圳市华为技术有限公司"), name="王芳")
    ContactFactory(customer=CustomerFactory(owner=rep1, name="珠海格力电器"), name="李强")
    ContactFactory(customer=CustomerFactory(owner=rep2, name="华为终端"), name="赵敏")  # rep2's
    with CaptureQueriesContext(connection) as queries:
        assert _found(api, rep1, "/api/v1/contacts/", "华为") == {"王芳"}
    contacts_by_name = [
        q["sql"]
        for q in queries.captured_queries
        if 'FROM "customers_contact"' in q["sql"] and 'UPPER("customers_customer"."name"' in q["sql"]
    ]
    assert contacts_by_name == []
    assert _found(api, rep1, "/api/v1/contacts/", "华为技术") == {"王芳"}
    assert _found(api, rep2, "/api/v1/contacts/", "华为") == {"赵敏"}


def test_the_workspace_list_finds_a_two_character_name_of_a_customer_or_a_contact(client: Any, rep1: Any) -> None:
    huawei = CustomerFactory(owner=rep1, name="深圳市华为技术有限公司")
    gree = CustomerFactory(owner=rep1, name="珠海格力电器")
    ContactFactory(customer=gree, name="董明")
    CustomerFactory(owner=rep1, name="华南为民贸易")
    client.force_login(rep1)

    def found(term: str) -> list[Any]:
        return [row["obj"] for row in client.get("/customers/", {"q": term}).context["table"]["rows"]]

    assert found("华为") == [huawei]
    assert found("格力") == [gree]
    assert found("董明") == [gree]  # a contact's name
