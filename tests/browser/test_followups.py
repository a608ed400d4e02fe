"""A rep's follow-ups on a 390 px phone: log a visit with its check-in (the browser's
location allowed, and refused), mark a follow-up done from My day, copy a WeChat id and
use the 360 header's call / log / follow-up buttons."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.utils import timezone

from crm.accounts.choices import Role
from customers.models import Activity
from tests.factories import ActivityFactory, ContactFactory, CustomerFactory, UserFactory

from .conftest import PHONE, screenshot, sign_in

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
PASSWORD = "a-Long-enough-pass-42"
SHANGHAI = {"latitude": 31.2304, "longitude": 121.4737, "accuracy": 20}


@pytest.fixture
def phone(browser: Any, live_server: Any) -> Iterator[Callable[..., Any]]:
    """A phone-sized page, with the permissions given (geolocation, clipboard); a script
    error, a failed resource or a server error fails the test."""
    contexts: list[Any] = []
    errors: list[str] = []

    def make(permissions: tuple[str, ...] = (), **options: Any) -> Any:
        context = browser.new_context(
            viewport=PHONE, locale="zh-CN", base_url=live_server.url, permissions=list(permissions), **options
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on(
            "response",
            lambda response: (
                errors.append(f"{response.status} {response.url}")
                if response.status >= 500
                or (response.status >= 400 and response.request.resource_type not in ("document", "xhr", "fetch"))
                else None
            ),
        )
        return page

    yield make
    for context in contexts:
        context.close()
    assert errors == [], errors


def _rep() -> Any:
    rep = UserFactory(username="xiaowang", role=Role.REP)
    rep.set_password(PASSWORD)
    rep.save()
    return rep


def _customer(rep: Any) -> Any:
    customer = CustomerFactory(owner=rep, name="上海甲科技股份有限公司", phone="021-5555 0000")
    ContactFactory(customer=customer, name="王小明", mobile="13912345678", wechat="wang_xm_88", is_primary=True)
    return customer


def _log_visit(page: Any, customer: Any, subject: str) -> None:
    page.goto(f"/customers/{customer.pk}/")
    page.get_by_test_id("log").click()
    form = page.get_by_test_id("log-form")
    form.locator("#id_kind").select_option("visit")
    assert form.locator("#id_next-kind").input_value() == "visit"  # the next step follows the kind
    form.locator("#id_subject").fill(subject)
    form.locator("#id_outcome").fill("样品已送达")
    form.get_by_label("在此签到（记录时间；手机允许时记录位置）").check()
    form.get_by_role("button", name="保存").click()
    page.get_by_test_id("activities-saved").wait_for()


def test_a_visit_is_checked_in_where_the_phone_is(phone: Any) -> None:
    rep = _rep()
    customer = _customer(rep)
    page = phone(("geolocation",), geolocation=SHANGHAI)
    sign_in(page, "xiaowang", PASSWORD)
    page.wait_for_url("**/")
    _log_visit(page, customer, "拜访工厂")
    visit = Activity.objects.get(customer=customer, done=True)
    assert visit.kind == "visit" and visit.checked_in_at is not None
    assert (float(visit.latitude), float(visit.longitude), visit.location_accuracy) == (31.2304, 121.4737, 20)
    # The next follow-up was planned in the same step.
    assert Activity.objects.filter(customer=customer, done=False, kind="visit").count() == 1
    row = page.locator(f"#activities-{visit.pk}")
    assert "uri.amap.com/marker" in str(row.get_by_test_id("check-in-map").get_attribute("href"))
    screenshot(page, "follow-up-check-in-phone")


def test_a_visit_is_logged_when_the_location_is_refused(phone: Any) -> None:
    rep = _rep()
    customer = _customer(rep)
    page = phone()  # no geolocation permission: the browser refuses
    sign_in(page, "xiaowang", PASSWORD)
    page.wait_for_url("**/")
    _log_visit(page, customer, "拜访门店")
    visit = Activity.objects.get(customer=customer, done=True)
    assert visit.checked_in_at is not None and visit.latitude is None
    assert "未共享位置" in page.locator(f"#activities-{visit.pk}").inner_text()


def test_a_follow_up_is_done_from_my_day_with_one_tap(phone: Any) -> None:
    rep = _rep()
    customer = _customer(rep)
    due = timezone.localtime().replace(hour=23, minute=59)
    items = [
        ActivityFactory(customer=customer, assignee=rep, subject=subject, occurred_at=None, due_at=due)
        for subject in ("回访采购部", "确认交期")
    ]
    page = phone()
    sign_in(page, "xiaowang", PASSWORD)
    page.wait_for_url("**/")
    group = page.get_by_test_id(f"group-{customer.pk}")
    assert "回访采购部" in group.inner_text() and "确认交期" in group.inner_text()  # one card per customer
    screenshot(page, "my-day-follow-ups-phone")
    page.get_by_test_id(f"done-{items[0].pk}").click()
    item = page.get_by_test_id(f"follow-up-{items[0].pk}")
    item.get_by_role("link", name="安排下一次跟进").wait_for()
    assert Activity.objects.get(pk=items[0].pk).done
    page.get_by_test_id(f"snooze-{items[1].pk}").click()
    page.get_by_test_id(f"follow-up-{items[1].pk}").get_by_role("button", name="推迟 1 天").click()
    page.get_by_test_id(f"follow-up-{items[1].pk}").get_by_text("已推迟到").wait_for()
    snoozed = Activity.objects.get(pk=items[1].pk)
    assert timezone.localtime(snoozed.due_at).date() > timezone.localdate() and not snoozed.done


def test_the_wechat_id_copies_and_the_header_buttons_work(phone: Any) -> None:
    rep = _rep()
    customer = _customer(rep)
    page = phone(("clipboard-read", "clipboard-write"))
    sign_in(page, "xiaowang", PASSWORD)
    page.wait_for_url("**/")
    page.goto(f"/customers/{customer.pk}/")
    copy = page.locator("#contacts").get_by_test_id("copy")
    copy.click()
    # The label changes once the browser has written the clipboard, a moment later.
    copy.filter(has_text="已复制").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == "wang_xm_88"

    header = page.get_by_test_id("header-actions")
    assert header.get_by_test_id("call").get_attribute("href") == "tel:13912345678"
    header.get_by_test_id("plan").click()
    form = page.get_by_test_id("plan-form")
    form.locator("#id_subject").fill("送样品")
    form.get_by_role("button", name="保存").click()
    page.get_by_test_id("activities-saved").wait_for()
    planned = Activity.objects.get(customer=customer, subject="送样品")
    assert not planned.done and planned.due_at > timezone.now()
    header.get_by_test_id("log").click()
    page.get_by_test_id("log-form").wait_for()
    screenshot(page, "customer-360-header-phone")
