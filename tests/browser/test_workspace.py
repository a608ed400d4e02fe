"""The sales rep's and manager's workspace in a real browser, on a desktop and a phone.

Screenshots of the main pages are saved to docs/screenshots/ (desktop and phone)."""

from __future__ import annotations

from typing import Any

import pytest

from crm.access.models import FieldPermission
from crm.accounts.choices import Role
from customers import services as customer_services
from customers.models import Contact, Customer
from tests.factories import (
    ActivityFactory,
    ContactFactory,
    CustomerFactory,
    FeedbackFactory,
    ServiceRecordFactory,
    TeamFactory,
    TransactionFactory,
    UserFactory,
)

from .conftest import PHONE, screenshot, sign_in

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
PASSWORD = "a-Long-enough-pass-42"


def _user(username: str, role: str = Role.REP, **extra: Any) -> Any:
    user = UserFactory(username=username, role=role, **extra)
    user.set_password(PASSWORD)
    user.save()
    return user


def _book(rep: Any) -> Customer:
    """A rep's small book of customers, with one well-filled account."""
    from django.utils import timezone

    for n, (name, industry) in enumerate([("杭州乙贸易有限公司", "retail"), ("苏州丙精密机械", "manufacturing")]):
        CustomerFactory(owner=rep, name=name, industry=industry, code=f"C-B{n}")
    star = CustomerFactory(
        owner=rep, name="上海甲科技股份有限公司", industry="it", lifecycle_stage="key", code="C-STAR"
    )
    ContactFactory(customer=star, name="王小明", mobile="13912345678", is_primary=True)
    TransactionFactory(customer=star, description="年度框架订单", amount=58800)
    ServiceRecordFactory(customer=star)
    FeedbackFactory(customer=star, subject="希望增加夜间配送")
    ActivityFactory(customer=star, assignee=rep, subject="回访采购部", occurred_at=None, due_at=timezone.now())
    return star


def test_a_rep_creates_a_customer_and_works_on_its_360_page(page: Any) -> None:
    rep = _user("xiaoli")
    _book(rep)
    sign_in(page, "xiaoli", PASSWORD)
    page.wait_for_url("**/")
    assert page.get_by_role("heading", level=1).inner_text() == "我的一天"
    assert "回访采购部" in page.get_by_test_id("due-today").inner_text()
    screenshot(page, "my-day-desktop")

    page.get_by_role("navigation", name="主导航").get_by_role("link", name="客户", exact=True).click()
    page.get_by_role("link", name="新建客户").click()
    page.get_by_label("名称", exact=True).fill("成都丁制药有限公司")
    page.get_by_label("行业").select_option("healthcare")
    page.get_by_role("button", name="创建").click()
    page.wait_for_url("**/customers/*/")
    customer = Customer.objects.get(name="成都丁制药有限公司")
    assert customer.owner == rep
    assert page.get_by_role("heading", level=1).inner_text() == "成都丁制药有限公司"

    # Sections are edited in place: the page is never reloaded.
    page.evaluate("window.__stillHere = true")
    contacts = page.locator("#contacts")
    contacts.get_by_role("link", name="新增").click()
    form = page.get_by_test_id("contacts-form")
    form.get_by_label("手机").fill("12")
    form.get_by_role("button", name="保存").click()
    page.get_by_test_id("contacts-form").locator(".errorlist").first.wait_for()  # errors shown at the field
    form = page.get_by_test_id("contacts-form")
    form.get_by_label("名称").fill("韩梅梅")
    form.get_by_label("手机").fill("13800001234")
    form.get_by_role("button", name="保存").click()
    page.locator("#contacts").get_by_text("韩梅梅").wait_for()
    assert Contact.objects.get(customer=customer).mobile == "13800001234"

    page.locator("#transactions").get_by_role("link", name="新增").click()
    order = page.get_by_test_id("transactions-form")
    order.locator("[name=description]").fill("首批试用订单")
    order.locator("[name=amount]").fill("12800")
    order.get_by_role("button", name="保存").click()
    page.locator("#transactions").get_by_text("首批试用订单").wait_for()
    assert customer.transactions.get().amount == 12800
    assert page.evaluate("window.__stillHere") is True


def test_the_360_page_of_a_well_kept_account(page: Any) -> None:
    rep = _user("xiaoli")
    star = _book(rep)
    sign_in(page, "xiaoli", PASSWORD)
    page.goto(f"/customers/{star.pk}/")
    assert "58,800" in page.get_by_test_id("spend").inner_text()
    assert "年度框架订单" in page.locator("#transactions").inner_text()
    assert "希望增加夜间配送" in page.get_by_test_id("timeline").inner_text()
    screenshot(page, "customer-360-desktop")


def test_search_and_filter_the_list_with_masked_phones(page: Any) -> None:
    rep = _user("xiaoli")
    _book(rep)
    FieldPermission.objects.update_or_create(
        resource="contacts", field="mobile", role="rep", defaults={"level": "masked"}
    )
    sign_in(page, "xiaoli", PASSWORD)
    page.goto("/customers/")
    table = page.get_by_test_id("customer-table")
    assert table.locator("tbody tr").count() == 3
    assert "139****5678" in table.inner_text() and "13912345678" not in page.content()
    screenshot(page, "customer-list-desktop")
    page.get_by_role("searchbox").fill("王小明")
    page.get_by_role("button", name="筛选").click()
    assert table.locator("tbody tr").count() == 1 and "上海甲科技" in table.inner_text()
    page.get_by_role("link", name="重置").click()
    page.get_by_label("行业").select_option("retail")
    page.get_by_role("button", name="筛选").click()
    assert table.locator("tbody tr").count() == 1 and "杭州乙贸易" in table.inner_text()
    page.get_by_role("link", name="客户编号").click()  # sort by code
    assert "sort=code" in page.url


def test_a_stale_edit_shows_a_conflict(page: Any) -> None:
    rep = _user("xiaoli")
    star = _book(rep)
    contact = star.contacts.get()
    sign_in(page, "xiaoli", PASSWORD)
    page.goto(f"/customers/{star.pk}/")
    page.locator(f"#contacts-{contact.pk}").get_by_role("link", name="编辑").click()
    form = page.get_by_test_id("contacts-form")
    form.get_by_label("职位").fill("采购总监")
    # Meanwhile a colleague saves the same contact.
    customer_services.contact_update(
        actor=rep, instance=Contact.objects.get(pk=contact.pk), data={"title": "副总经理"}, expected_version=1
    )
    form.get_by_role("button", name="保存").click()
    conflict = page.get_by_test_id("conflict")
    conflict.wait_for()
    assert "已被他人修改" in conflict.inner_text()
    contact.refresh_from_db()
    assert contact.title == "副总经理"
    conflict.get_by_role("link", name="加载最新版本").click()
    conflict.wait_for(state="detached")
    assert page.get_by_test_id("contacts-form").get_by_label("职位").input_value() == "副总经理"


def test_a_rep_cannot_open_another_reps_customer(page: Any) -> None:
    _user("xiaoli")
    theirs = CustomerFactory(owner=_user("xiaowang"), name="别人的客户")
    sign_in(page, "xiaoli", PASSWORD)
    response = page.goto(f"/customers/{theirs.pk}/")
    assert response.status == 404
    assert "别人的客户" not in page.content()


def test_language_switch_and_the_phone_layout(page: Any) -> None:
    team = TeamFactory(name="华东一组")
    manager = _user("laozhang", Role.MANAGER, team=team)
    team.manager = manager
    team.save()
    rep = _user("xiaoli", team=team)
    star = _book(rep)
    page.set_viewport_size(PHONE)
    sign_in(page, "laozhang", PASSWORD)
    page.wait_for_url("**/")
    for path, name in (("/", "my-day"), ("/customers/", "customer-list"), (f"/customers/{star.pk}/", "customer-360")):
        page.goto(path)
        # The menu folds behind its button and nothing but tables (which scroll in
        # their own box) is wider than the screen.
        assert page.get_by_role("button", name="菜单").is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], path
        screenshot(page, f"{name}-phone")
    page.get_by_role("button", name="菜单").click()
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="市场活动").click()
    page.get_by_label("语言").select_option("en")
    page.get_by_role("heading", name="Campaigns").wait_for()
    page.goto("/")
    assert page.get_by_role("heading", level=1).inner_text() == "My day"
    # Keyboard: the skip link is the first stop and leads to the content.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Skip to content"


def test_a_form_opened_on_its_own_page_shows_every_error_then_saves(page: Any) -> None:
    """The add-a-contact form opened directly (a bookmark, a link in a message): a refused
    form comes back on the same page with every bad field marked at once, then saves."""
    rep = _user("xiaoli")
    star = _book(rep)
    sign_in(page, "xiaoli", PASSWORD)
    page.goto(f"/customers/{star.pk}/contacts/new/")
    form = page.get_by_test_id("contacts-form")
    form.get_by_label("电子邮件").fill("不是邮箱")
    form.get_by_label("手机").fill("电话号码")
    form.get_by_role("button", name="保存").click()
    errors = page.locator("#contacts-form .errorlist")
    errors.first.wait_for()
    # The name (missing), the e-mail and the mobile, all at once.
    for field in ("name", "email", "mobile"):
        assert page.locator(f"#id_{field}[aria-invalid=true]").count() == 1, field
        assert page.locator(f"#id_{field}_error").inner_text(), field
    screenshot(page, "stand-alone-form-errors-desktop")
    form = page.get_by_test_id("contacts-form")
    form.get_by_label("名称").fill("赵经理")
    form.get_by_label("电子邮件").fill("zhao@example.cn")
    form.get_by_label("手机").fill("138 0998 5018")
    form.get_by_role("button", name="保存").click()
    page.get_by_text("赵经理").first.wait_for()
    assert star.contacts.filter(name="赵经理", email="zhao@example.cn").exists()
