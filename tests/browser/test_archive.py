"""A clean archive in a real browser: a manager works the duplicate queue (compares a
pair, merges it choosing the customer and values to keep, then undoes the merge) and
approves a rep's proposed change from the approvals inbox."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from crm.access.changes import change_propose
from crm.access.models import ChangeRequest, FieldPermission
from crm.accounts.choices import Role
from customers.models import Contact, Customer
from duplicates.finder import find_duplicates
from duplicates.models import DuplicateCandidate
from tests.factories import ContactFactory, CustomerFactory, TeamFactory, TransactionFactory, UserFactory
from transactions.models import Transaction

from .conftest import DESKTOP, PHONE, screenshot, sign_in

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
PASSWORD = "a-Long-enough-pass-42"


def _people() -> tuple[Any, Any, Any]:
    team = TeamFactory(name="华东二组")
    manager = UserFactory(username="wangjl", role=Role.MANAGER, team=team, first_name="王经理", last_name="")
    manager.set_password(PASSWORD)
    manager.save()
    team.manager = manager
    team.save()
    rep1 = UserFactory(username="xiaozhang", role=Role.REP, team=team, first_name="小张", last_name="")
    rep2 = UserFactory(username="xiaozhao", role=Role.REP, team=team, first_name="小赵", last_name="")
    return manager, rep1, rep2


def test_a_manager_merges_a_pair_from_the_queue_and_undoes_it(page: Any) -> None:
    manager, rep1, rep2 = _people()
    first = CustomerFactory(owner=rep1, team=rep1.team, name="杭州明远科技有限公司", phone="0571-8800-1234",
                            city="杭州", province="浙江省", website="", email="")  # fmt: skip
    second = CustomerFactory(owner=rep2, team=rep2.team, name="杭州明远科技股份有限公司",
                             phone="+86 571 8800 1234", city="杭州", province="浙江省",
                             website="https://mingyuan.cn", email="")  # fmt: skip
    ContactFactory(customer=first, is_primary=True, name="陈总", mobile="13900000001", email="")
    moved_contact = ContactFactory(customer=second, name="刘工", mobile="13900000002", email="")
    order = TransactionFactory(customer=second, amount=Decimal("88000.00"))
    find_duplicates()
    pair = DuplicateCandidate.objects.get()

    sign_in(page, "wangjl", PASSWORD)
    page.set_viewport_size(PHONE)
    page.goto("/duplicates/")
    assert "杭州明远科技股份有限公司" in page.get_by_test_id("pairs").inner_text()
    screenshot(page, "duplicates-queue-phone")
    page.set_viewport_size(DESKTOP)
    page.goto("/duplicates/")
    page.get_by_test_id("pairs").get_by_role("link").first.click()
    page.get_by_test_id("side-by-side").wait_for()
    assert page.get_by_test_id("reasons").inner_text().strip()
    # Keep B (rep2's record): its values are proposed, except where only A has one.
    page.get_by_test_id("keep-b").check()
    assert page.get_by_test_id("value-website-b").is_checked()
    assert page.get_by_test_id("value-owner-b").is_checked()
    page.get_by_test_id("value-owner-a").check()  # the account stays with rep1
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "duplicates-merge-desktop")
    page.get_by_test_id("merge").click()
    page.wait_for_url(f"**/customers/{second.pk}/")
    assert "已合并" in page.locator(".alert").first.inner_text()

    assert not Customer.objects.filter(pk=first.pk).exists()
    kept = Customer.objects.get(pk=second.pk)
    assert kept.owner == rep1 and kept.website == "https://mingyuan.cn"
    assert Contact.objects.filter(customer=kept).count() == 2
    assert Transaction.objects.get(pk=order.pk).customer_id == kept.pk

    page.goto(f"/duplicates/{pair.pk}/")
    assert "杭州明远科技有限公司" in page.get_by_test_id("merged-into").inner_text()
    page.get_by_test_id("unmerge").click()
    page.get_by_test_id("side-by-side").wait_for()
    assert Customer.objects.get(pk=first.pk).owner == rep1
    assert Customer.objects.get(pk=second.pk).owner == rep2
    assert Contact.objects.get(pk=moved_contact.pk).customer_id == second.pk
    assert DuplicateCandidate.objects.get(pk=pair.pk).status == "open"


def test_a_manager_approves_a_reps_proposed_credit_limit(page: Any) -> None:
    manager, rep1, _rep2 = _people()
    # As shipped (an earlier transactional test may have emptied the table).
    FieldPermission.objects.update_or_create(
        resource="customers", field="credit_limit", role="rep", defaults={"level": "propose"}
    )
    customer = CustomerFactory(owner=rep1, team=rep1.team, name="宁波海川物流有限公司",
                               credit_limit=Decimal("100000.00"))  # fmt: skip
    request = change_propose(
        actor=rep1, resource="customers", instance=customer, data={"credit_limit": Decimal("250000.00")},
        expected_version=customer.version,
    )  # fmt: skip
    assert request is not None

    sign_in(page, "wangjl", PASSWORD)
    page.set_viewport_size(DESKTOP)
    page.goto("/")
    page.get_by_test_id("approvals-link").click()
    row = page.get_by_test_id("approval-row").first
    assert "宁波海川物流有限公司" in row.inner_text() and "250" in row.inner_text()
    screenshot(page, "approvals-desktop")
    row.locator("button.btn-success").click()
    page.get_by_test_id("approvals-empty").wait_for()

    customer.refresh_from_db()
    assert customer.credit_limit == Decimal("250000.00")
    request = ChangeRequest.objects.get(pk=request.pk)
    assert request.status == "approved" and request.decided_by == manager
