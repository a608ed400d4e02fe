"""The admin console in a real browser: sign in, edit the field grid, manage users and
tokens, read the audit log and check its chain, on a desktop and a phone screen."""

from __future__ import annotations

from typing import Any

import pytest

from crm.access.models import FieldPermission
from crm.accounts.choices import Role
from crm.accounts.models import APIToken, User
from tests.factories import CustomerFactory, UserFactory

from .conftest import PHONE, screenshot, sign_in

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
PASSWORD = "a-Long-enough-pass-42"


def _user(username: str, role: str) -> Any:
    user = UserFactory(username=username, role=role)
    user.set_password(PASSWORD)
    user.save()
    return user


def test_admin_edits_the_field_grid_and_a_rep_sees_the_result(page: Any, api: Any) -> None:
    _user("boss", Role.ADMIN)
    rep = _user("xiaoli", Role.REP)
    customer = CustomerFactory(owner=rep, website="https://hidden.example.com")
    sign_in(page, "boss", PASSWORD)
    page.wait_for_url("**/")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="控制台").click()
    assert page.get_by_role("heading", level=1).inner_text() == "管理控制台"
    screenshot(page, "console-home")

    page.get_by_role("navigation", name="控制台").get_by_role("link", name="字段权限").click()
    page.locator("#main").get_by_role("link", name="客户", exact=True).click()
    page.wait_for_url("**/console/fields/customers/")
    cell = page.locator("#level-website-rep")
    cell.select_option("hidden")
    # The cell is coloured by its level as soon as it changes.
    assert "level-hidden" in cell.locator("xpath=..").get_attribute("class")
    page.locator("#level-tax_id-integration").select_option("masked")
    assert page.locator("#reveal-tax_id-integration").is_visible()
    screenshot(page, "console-field-grid")
    page.get_by_role("button", name="保存").click()
    assert page.get_by_role("alert").first.inner_text().startswith("已保存")
    assert FieldPermission.objects.get(resource="customers", field="website", role="rep").level == "hidden"
    assert "website" not in api(rep).get(f"/api/v1/customers/{customer.pk}/").json()


def test_admin_creates_a_user_and_a_token_then_revokes_it(page: Any, team: Any) -> None:
    _user("boss", Role.ADMIN)
    erp = _user("erp-sync", Role.INTEGRATION)
    sign_in(page, "boss", PASSWORD)
    page.goto("/console/users/new/")
    page.get_by_label("用户名").fill("zhangwei")
    page.get_by_label("名字").fill("伟")
    page.get_by_label("姓氏").fill("张")
    page.get_by_label("角色").select_option("rep")
    page.get_by_label("团队").select_option(str(team.pk))
    page.get_by_label("新密码").fill("short")
    page.get_by_role("button", name="保存").click()
    assert page.locator(".errorlist").count() >= 1  # the weak password is refused at the field
    page.get_by_label("新密码").fill(PASSWORD)
    page.get_by_role("button", name="保存").click()
    page.wait_for_url("**/console/users/")
    assert page.get_by_role("link", name="zhangwei").is_visible()
    assert User.objects.get(username="zhangwei").team == team

    page.goto("/console/tokens/new/")
    page.get_by_label("用户").select_option(str(erp.pk))
    page.get_by_label("名称").fill("ERP 同步")
    page.get_by_label("customers:read").check()
    page.get_by_role("button", name="创建令牌").click()
    key = page.get_by_test_id("token-key").inner_text()
    token = APIToken.objects.get(name="ERP 同步")
    assert token.prefix == key[:8] and token.scopes == ["customers:read"]
    screenshot(page, "console-token-created")
    page.get_by_role("link", name="完成").click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id(f"token-{token.pk}").get_by_role("button", name="吊销").click()
    page.wait_for_url("**/console/tokens/")
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_audit_log_filters_and_chain_check_on_a_phone(page: Any, api: Any) -> None:
    _user("boss", Role.ADMIN)
    rep = _user("xiaoli", Role.REP)
    customer = CustomerFactory(owner=rep, code="C-PHONE-1")
    client = api(rep)
    etag = client.get(f"/api/v1/customers/{customer.pk}/")["ETag"]
    client.patch(f"/api/v1/customers/{customer.pk}/", {"city": "苏州"}, format="json", HTTP_IF_MATCH=etag)
    page.set_viewport_size(PHONE)
    sign_in(page, "boss", PASSWORD)
    page.goto("/console/audit/")
    page.get_by_label("操作人").fill("xiaoli")
    page.locator("#id_customer").fill("C-PHONE-1")
    page.get_by_role("button", name="筛选").click()
    rows = page.locator("tbody tr")
    assert rows.count() == 1 and "苏州" in rows.first.inner_text()
    page.get_by_role("button", name="检查链").click()
    assert "完好" in page.get_by_test_id("chain-result").inner_text()
    # Nothing overflows the phone's width but the table, which scrolls inside its box.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "console-audit-phone")


def test_language_switch_then_a_rep_cannot_open_the_console(page: Any) -> None:
    _user("xiaoli", Role.REP)
    page.goto("/accounts/login/?next=/console/")
    page.get_by_label("语言").select_option("en")  # switches at once, without a button press
    page.get_by_role("heading", name="Sign in").wait_for()
    screenshot(page, "sign-in-english")
    page.get_by_label("User name").fill("xiaoli")
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_response(lambda r: r.request.method == "GET" and r.url.endswith("/console/")) as answer:
        page.get_by_role("button", name="Sign in").click()
    assert answer.value.status == 403
    assert page.get_by_role("heading", level=1).inner_text() == "Not allowed"
    assert "Field permissions" not in page.content()
