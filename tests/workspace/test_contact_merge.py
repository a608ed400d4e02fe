"""The merge page of a customer's duplicate contacts, reached from the 360 page's
contacts section: side by side, merged with both versions, unmerged from its notice."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from crm.audit.choices import Action
from crm.audit.models import AuditEvent
from customers.models import Contact
from tests.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(rep1: Any) -> Any:
    return CustomerFactory(owner=rep1)


@pytest.fixture
def twins(customer: Any) -> tuple[Any, Any]:
    """李娜 entered twice with one e-mail in two cases."""
    first = ContactFactory(customer=customer, name="李娜", mobile="", email="li.na@example.com", title="采购经理")
    second = ContactFactory(customer=customer, name="李 娜", mobile="", email="Li.Na@Example.com", title="采购总监")
    return first, second


def _page_client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_360_page_tells_of_duplicates_and_the_merge_page_merges_and_unmerges(
    rep1: Any, customer: Any, twins: Any
) -> None:
    survivor, duplicate = twins
    client = _page_client(rep1)
    page = client.get(f"/customers/{customer.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    assert "1 possible duplicate contact" in page.content.decode()
    chinese = client.get(f"/customers/{customer.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "1 位疑似重复的联系人" in chinese.content.decode()
    merge_url = f"/customers/{customer.pk}/contacts/merge/"
    listing = client.get(merge_url, HTTP_ACCEPT_LANGUAGE="en")
    assert listing.status_code == 200 and f"a={survivor.pk}&amp;b={duplicate.pk}" in listing.content.decode()
    compare = client.get(merge_url, {"a": survivor.pk, "b": duplicate.pk}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    text = compare.content.decode()
    assert compare.status_code == 200 and "合并" in text and 'data-label="' in text and "table-cards" in text
    posted = client.post(
        f"{merge_url}?a={survivor.pk}&b={duplicate.pk}",
        {
            "survivor_version": survivor.version,
            "duplicate_version": duplicate.version,
            "title": "b",
            "keep": "a",
        },
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    )
    assert posted.status_code == 200
    assert "Merged" in posted.content.decode() and "Unmerge" in posted.content.decode()
    assert Contact.objects.get(pk=survivor.pk).title == "采购总监"
    assert not Contact.objects.filter(pk=duplicate.pk).exists()
    event = AuditEvent.objects.get(action=Action.MERGE)
    undone = client.post(
        f"/customers/{customer.pk}/contacts/unmerge/",
        {"event": event.pk, "version": Contact.objects.get(pk=survivor.pk).version},
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    )
    assert undone.status_code == 200
    assert Contact.objects.filter(pk=duplicate.pk).exists()


def test_a_stale_merge_form_shows_the_conflict(rep1: Any, customer: Any, twins: Any) -> None:
    survivor, duplicate = twins
    response = _page_client(rep1).post(
        f"/customers/{customer.pk}/contacts/merge/?a={survivor.pk}&b={duplicate.pk}",
        {"survivor_version": survivor.version - 1, "duplicate_version": duplicate.version, "keep": "a"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 409
    assert Contact.objects.filter(pk=duplicate.pk).exists()


def test_the_merge_page_of_another_reps_customer_is_404(rep2: Any, customer: Any, twins: Any) -> None:
    survivor, duplicate = twins
    url = f"/customers/{customer.pk}/contacts/merge/?a={survivor.pk}&b={duplicate.pk}"
    assert _page_client(rep2).get(url).status_code == 404
    assert _page_client(rep2).post(url, {"keep": "a"}).status_code == 404
