"""A rep moves in from the browser: uploads a GB18030 CSV, sees the dry run, fixes the
mapping, imports with the page following the worker, downloads the error report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pytest

from crm.accounts.choices import Role
from customers.models import Customer
from imports import services
from imports.models import ImportJob
from tests.factories import CustomerFactory, UserFactory

from .conftest import screenshot, sign_in

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
PASSWORD = "a-Long-enough-pass-42"
CSV = (
    "客户编号,客户名称,所属行业,年营业额,城市,备注栏\n"
    'C-BR-1,浏览器导入甲公司,制造业,"¥10,000",杭州,老客户\n'
    "C-BR-2,浏览器导入乙公司,不存在的行业,1.2万,上海,\n"
    "C-BR-3,浏览器导入丙公司,零售批发,300,苏州,\n"
)


def test_upload_dry_run_mapping_import_and_error_report(page: Any, tmp_path: Path) -> None:
    rep = UserFactory(username="xiaozhao", role=Role.REP)
    rep.set_password(PASSWORD)
    rep.save()
    upload = tmp_path / "客户清单.csv"
    upload.write_bytes(CSV.encode("gb18030"))

    sign_in(page, "xiaozhao", PASSWORD)
    page.goto("/customers/")
    page.get_by_test_id("imports").click()
    page.get_by_test_id("new-import").click()
    page.get_by_label("文件内容").select_option("customers")
    page.locator("input[type=file]").set_input_files(str(upload))
    page.get_by_role("button", name="检查文件").click()
    page.get_by_test_id("mapping").wait_for()
    assert page.get_by_test_id("count-create").inner_text() == "2"
    assert page.get_by_test_id("count-error").inner_text() == "1"
    assert "不存在的行业" in page.get_by_test_id("problems").inner_text()
    assert "gb18030" in page.content()
    screenshot(page, "import-dry-run-desktop")

    with page.expect_download() as download:
        page.get_by_test_id("error-report").click()
    report = tmp_path / "errors.xlsx"
    download.value.save_as(report)
    assert openpyxl.load_workbook(report).active["C3"].comment is not None

    # The industry column is left out: every row can go in now.
    page.get_by_label("所属行业").select_option("")
    page.get_by_role("button", name="重新检查").click()
    page.get_by_test_id("mapping").wait_for()
    assert page.get_by_test_id("count-create").inner_text() == "3"
    page.get_by_test_id("import").click()
    page.get_by_test_id("importing").wait_for()
    assert page.locator(".progress").count() == 1
    job = ImportJob.objects.get()
    services.import_run(job_id=job.pk)  # what the worker does with the queued task
    page.get_by_test_id("written").wait_for(timeout=10_000)
    assert page.get_by_test_id("state").inner_text() == "已导入"
    assert Customer.objects.filter(code__startswith="C-BR", owner=rep).count() == 3


def _archive_workbook(path: Path) -> None:
    """A key-account archive of two sheets: customers, and contacts naming them by code;
    its second customer has the phone of a customer already in the book."""
    book = openpyxl.Workbook()
    customers = book.active
    customers.title = "基本信息"
    customers.append(["客户编号", "客户名称", "所在地区", "总机电话", "备注"])
    customers.append(["C-AR-1", "浏览器档案甲公司", "浙江省杭州市", "0571-88112233", "新客户"])
    customers.append([None, "云栖科技股份有限公司", "浙江省杭州市", "0571-88001234", "来自档案"])
    contacts = book.create_sheet("联系信息")
    contacts.append(["客户编号", "姓名", "手机", "职务"])
    contacts.append(["C-AR-1", "王经理", "13800138000", "采购经理"])
    contacts.append(["C-AR-1", "李工", "13900139000", "工程师"])
    book.save(path)


def test_a_workbook_of_sheets_with_a_duplicate_updated_as_chosen(page: Any, tmp_path: Path) -> None:
    rep = UserFactory(username="xiaoqian", role=Role.REP)
    rep.set_password(PASSWORD)
    rep.save()
    existing = CustomerFactory(
        name="云栖科技有限公司", city="杭州市", province="浙江省", phone="0571-88001234", owner=rep, notes=""
    )
    upload = tmp_path / "大客户档案.xlsx"
    _archive_workbook(upload)

    sign_in(page, "xiaoqian", PASSWORD)
    page.goto("/imports/new/")
    page.get_by_label("文件内容").select_option("archive")
    page.locator("input[type=file]").set_input_files(str(upload))
    page.get_by_role("button", name="检查文件").click()
    page.get_by_test_id("sheet").first.wait_for()
    sheets = page.get_by_test_id("sheet")
    assert sheets.count() == 2
    assert "基本信息" in sheets.nth(0).inner_text() and "联系信息" in sheets.nth(1).inner_text()
    assert "0571-88001234" in page.get_by_test_id("duplicates").inner_text()
    duplicate = page.get_by_test_id("duplicates").locator("tbody tr")
    assert duplicate.count() == 1 and existing.name in duplicate.inner_text()
    assert page.get_by_label("编码").count() == 0  # a workbook has no encoding to correct
    duplicate.locator("select").select_option("update")
    screenshot(page, "import-workbook-duplicates-desktop")
    page.get_by_test_id("import").click()
    page.get_by_test_id("importing").wait_for()
    job = ImportJob.objects.get()
    services.import_run(job_id=job.pk)  # what the worker does with the queued task
    page.get_by_test_id("written").wait_for(timeout=10_000)
    assert page.get_by_test_id("state").inner_text() == "已导入"

    created = Customer.objects.get(code="C-AR-1")
    assert created.owner == rep and set(created.contacts.values_list("name", flat=True)) == {"王经理", "李工"}
    existing.refresh_from_db()
    assert existing.name == "云栖科技股份有限公司" and existing.notes == "来自档案"
    assert Customer.objects.filter(owner=rep).count() == 2
