"""Archive health for managers and admins: the share of customers verified within their
period, the share complete, per owner, within the viewer's scope, in a constant number
of queries; the duplicate and change queues show only once they exist."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm.access.changes import change_propose
from crm.accounts.choices import Role
from customers.models import Customer
from duplicates.models import DuplicateCandidate
from tests.factories import ContactFactory, CustomerFactory, UserFactory
from workspace.selectors import archive_health

pytestmark = pytest.mark.django_db
_TAX_IDS = itertools.count()


def _verified(customer: Customer, days_ago: int | None) -> None:
    at = timezone.now() - dt.timedelta(days=days_ago) if days_ago is not None else None
    created = timezone.now() - dt.timedelta(days=400)
    Customer.objects.filter(pk=customer.pk).update(last_verified_at=at, created_at=created)


def _complete(owner: Any) -> Customer:
    customer = CustomerFactory(
        owner=owner,
        short_name="全",
        address="浦东新区 1 号",
        phone="021-12345678",
        website="https://example.com",
        tax_id=f"91310000MA1FL{next(_TAX_IDS):05d}",
        company_size="large",
        employee_count=500,
        annual_revenue=Decimal("1000000"),
        credit_limit=Decimal("50000"),
        source="referral",
    )
    ContactFactory(customer=customer, mobile="13800000000", is_decision_maker=True)
    return customer


@pytest.fixture
def archive(rep1: Any, rep2: Any, outsider: Any) -> dict[str, list[Customer]]:
    """rep1: two customers, one verified last month and complete; rep2: one, never
    verified; an outsider in another team: one, verified and complete."""
    full = _complete(rep1)
    _verified(full, 30)
    bare = CustomerFactory(owner=rep1)
    _verified(bare, 300)
    theirs = CustomerFactory(owner=rep2)
    _verified(theirs, None)
    away = _complete(outsider)
    _verified(away, 1)
    return {"rep1": [full, bare], "rep2": [theirs], "outsider": [away]}


def test_figures_per_owner_in_a_managers_scope(manager: Any, rep1: Any, archive: Any) -> None:
    health = archive_health(user=manager)
    assert health.total.customers == 3 and health.total.verified == 1 and health.total.complete == 1
    assert health.total.verified_percent == 33
    rows = {row.owner_id: row for row in health.owners}
    assert set(rows) == {rep1.pk, archive["rep2"][0].owner_id}
    assert rows[rep1.pk].customers == 2 and rows[rep1.pk].verified_percent == 50
    assert rows[rep1.pk].complete_percent == 50
    assert health.duplicates_waiting == 0 and health.changes_waiting == 0


def test_an_admin_sees_every_team(admin_user: Any, archive: Any) -> None:
    health = archive_health(user=admin_user)
    assert health.total.customers == 4 and health.total.verified == 2 and health.total.complete == 2


def test_the_page_is_for_managers_and_admins(
    client: Any, rep1: Any, manager: Any, admin_user: Any, archive: Any
) -> None:
    client.force_login(rep1)
    assert client.get("/archive-health/").status_code == 403
    client.force_login(manager)
    page = client.get("/archive-health/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Verified within period" in page and "33%" in page
    assert 'data-testid="tile-duplicates"' in page and 'data-testid="tile-changes"' in page
    assert str(archive["outsider"][0].owner) not in page
    client.force_login(admin_user)
    zh = client.get("/archive-health/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "档案健康度" in zh and "50%" in zh and "完整（80% 及以上）" in zh and "Complete" not in zh


def test_the_page_queries_do_not_grow_with_customers(client: Any, manager: Any, rep1: Any, archive: Any) -> None:
    client.force_login(manager)
    client.get("/archive-health/")
    with CaptureQueriesContext(connection) as few:
        client.get("/archive-health/")
    for _ in range(4):
        _complete(rep1)
    with CaptureQueriesContext(connection) as many:
        client.get("/archive-health/")
    assert len(many.captured_queries) == len(few.captured_queries)


def test_duplicates_and_changes_waiting_are_counted_within_scope(
    manager: Any, rep1: Any, outsider: Any, archive: Any
) -> None:
    """The tiles count open duplicate pairs with both sides in the viewer's scope and
    pending change requests to their customers; decided ones and other teams' do not."""
    first, second = sorted(archive["rep1"], key=lambda c: c.pk)
    now = timezone.now()
    DuplicateCandidate.objects.create(customer_a=first, customer_b=second, score=95, reasons=[], found_at=now)
    elsewhere = CustomerFactory(owner=outsider)
    a, b = sorted([archive["outsider"][0], elsewhere], key=lambda c: c.pk)
    DuplicateCandidate.objects.create(customer_a=a, customer_b=b, score=95, reasons=[], found_at=now)
    first.refresh_from_db()
    change_propose(actor=rep1, resource="customers", instance=first, data={"tax_id": "91330100MA2B000001"},
                   expected_version=None)  # fmt: skip
    health = archive_health(user=manager)
    assert health.duplicates_waiting == 1 and health.changes_waiting == 1
    DuplicateCandidate.objects.filter(customer_a=first).update(status="not_duplicate")
    assert archive_health(user=manager).duplicates_waiting == 0


def test_an_admin_sees_a_row_per_team_and_opens_one_to_its_owners(
    client: Any, admin_user: Any, rep1: Any, outsider: Any, archive: Any
) -> None:
    """The whole company is one row per team (a company of thousands of reps is not one
    table); a team opens to its owners; customers without a team have their own row."""
    CustomerFactory(owner=rep1, team=None)
    health = archive_health(user=admin_user)
    assert health.owners == [] and {row.team_id for row in health.teams} == {rep1.team_id, outsider.team_id, None}
    assert sum(row.customers for row in health.teams) == health.total.customers == 5
    ours = archive_health(user=admin_user, team=rep1.team_id)
    assert ours.team == rep1.team and ours.teams == [] and ours.total.customers == 3
    assert {row.owner_id for row in ours.owners} == {rep1.pk, archive["rep2"][0].owner_id}
    client.force_login(admin_user)
    page = client.get("/archive-health/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'data-testid="health-teams"' in page and f"?team={rep1.team_id}" in page and "未分组" in page
    opened = client.get(f"/archive-health/?team={rep1.team_id}", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="health-owners"' in opened and 'data-testid="all-teams"' in opened
    assert client.get("/archive-health/?team=x").status_code == 200


def test_a_manager_opening_another_team_sees_nothing_of_it(manager: Any, outsider: Any, archive: Any) -> None:
    assert archive_health(user=manager, team=outsider.team_id).total.customers == 0


def test_a_manager_of_many_reps_reads_their_rows_a_page_at_a_time(
    client: Any, manager: Any, rep1: Any, rep2: Any, archive: Any, monkeypatch: Any
) -> None:
    """The owners' rows come a page at a time, in name order; the tiles count them all."""
    from workspace import views

    monkeypatch.setattr(views, "HEALTH_OWNERS_PER_PAGE", 1)
    client.force_login(manager)
    first = client.get("/archive-health/", HTTP_ACCEPT_LANGUAGE="en")
    assert [row.owner_id for row in first.context["page"].object_list] == [rep1.pk]
    assert first.context["health"].total.customers == 3
    html = first.content.decode()
    assert "Page 1 of 2" in html and 'href="?page=2"' in html
    second = client.get("/archive-health/", {"page": "2"})
    assert [row.owner_id for row in second.context["page"].object_list] == [rep2.pk]
    assert client.get("/archive-health/", {"page": "nonsense"}).status_code == 200  # the first page
    # An admin opening a team keeps it in the pages' links.
    client.force_login(UserFactory(username="boss", role=Role.ADMIN))
    opened = client.get("/archive-health/", {"team": rep1.team_id}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f'href="?team={rep1.team_id}&amp;page=2"' in opened
