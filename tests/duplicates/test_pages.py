"""The review pages: the list, one pair side by side, the "Not a duplicate" button."""

from __future__ import annotations

from typing import Any

import pytest

from duplicates.finder import find_duplicates
from duplicates.models import DuplicateCandidate
from tests.factories import ContactFactory, TransactionFactory

from .conftest import customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(rep1: Any, rep2: Any) -> DuplicateCandidate:
    first = customer(rep1, "杭州明远科技有限公司", phone="0571-8800-1234")
    second = customer(rep2, "杭州明远科技股份有限公司", phone="+86 571 8800 1234")
    ContactFactory.create_batch(2, customer=first, mobile="", email="")
    TransactionFactory(customer=second)
    find_duplicates()
    return DuplicateCandidate.objects.get()


def test_the_manager_reviews_the_pair_side_by_side(client: Any, manager: Any, pair: DuplicateCandidate) -> None:
    client.force_login(manager)
    listing = client.get("/duplicates/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "杭州明远科技股份有限公司" in listing
    assert 'href="/duplicates/"' in listing  # the navbar's entry
    assert f"/duplicates/{pair.pk}/" in listing
    page = client.get(f"/duplicates/{pair.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    text = page.content.decode()
    assert page.status_code == 200
    assert "same phone number 57188001234" in text
    assert 'Contacts</th><td data-label="Customer A">2</td><td data-label="Customer B">0</td>' in text
    assert 'Orders</th><td data-label="Customer A">0</td><td data-label="Customer B">1</td>' in text
    assert 'data-testid="not-duplicate"' in text


def test_not_a_duplicate_from_the_page(client: Any, manager: Any, pair: DuplicateCandidate) -> None:
    client.force_login(manager)
    stale = client.post(f"/duplicates/{pair.pk}/not-duplicate/", {"version": "7"})
    assert stale.status_code == 302
    pair.refresh_from_db()
    assert pair.status == "open"
    done = client.post(f"/duplicates/{pair.pk}/not-duplicate/", {"version": "1"})
    assert done.status_code == 302
    pair.refresh_from_db()
    assert pair.status == "not_duplicate" and pair.decided_by == manager
    assert "杭州明远科技股份有限公司" not in client.get("/duplicates/").content.decode()


def test_who_sees_what(client: Any, rep1: Any, outsider: Any, admin_user: Any, pair: DuplicateCandidate) -> None:
    client.force_login(rep1)  # sees only one side
    assert client.get(f"/duplicates/{pair.pk}/").status_code == 404
    assert 'href="/duplicates/"' not in client.get("/duplicates/").content.decode()
    assert client.post(f"/duplicates/{pair.pk}/not-duplicate/", {"version": "1"}).status_code == 403
    client.force_login(outsider)
    assert client.get(f"/duplicates/{pair.pk}/").status_code == 404
    client.force_login(admin_user)
    assert client.get(f"/duplicates/{pair.pk}/").status_code == 200


def test_the_list_runs_the_same_queries_for_many_pairs(
    client: Any, rep1: Any, admin_user: Any, django_assert_max_num_queries: Any
) -> None:
    for n in range(12):
        customer(rep1, f"杭州第{n}号明远科技有限公司", phone=f"0571-8800-{n:04d}")
        customer(rep1, f"宁波第{n}号港通物流公司", phone=f"+86 571 8800 {n:04d}", city="宁波")
    find_duplicates()
    client.force_login(admin_user)
    with django_assert_max_num_queries(14):
        response = client.get("/duplicates/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.content.decode().count('<td class="text-end" data-label="Score">') >= 12


def test_an_admin_finds_the_pairs_in_the_user_menu(client: Any, admin_user: Any) -> None:
    client.force_login(admin_user)
    assert 'class="dropdown-item" href="/duplicates/"' in client.get("/duplicates/").content.decode()
