"""Importing real files: a dry run that writes nothing, then the import itself, through
the services, scope and field policy; the error report; modes, keys and re-imports; and
the round trip from an export back in."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlsxwriter
from django.core.management import CommandError, call_command

from crm.access.models import FieldPermission
from crm.audit.models import AuditEvent
from customers.models import Contact, Customer
from imports.committing import commit_plan
from imports.planning import plan_import
from imports.report import column_letter, write_error_report
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

CUSTOMERS_CSV = (
    "客户编号,客户名称,所属行业,所在地区,年营业额（万元）,员工人数,合作开始日期,影响力评分,标签\r\n"
    'C-IMP-001,华东重工股份有限公司,制造业,浙江省杭州市,"¥12,000,000",1200,2023年3月1日,8分,重点、制造\r\n'
    "C-IMP-002,杭州云栖科技有限公司,IT与软件,上海,1.2万,85,2024/1/15,6,\r\n"
)


def _csv(tmp_path: Path, text: str = CUSTOMERS_CSV, name: str = "客户.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("gb18030"))
    return path


def test_a_dry_run_reads_every_value_and_writes_nothing(tmp_path: Path, rep1: Any) -> None:
    before = (Customer.objects.count(), AuditEvent.objects.count())
    plan = plan_import(_csv(tmp_path), user=rep1, kind="customers")
    assert plan.encoding == "gb18030"
    assert plan.counts == {"create": 2}, [p.message for p in plan.problems]
    first = plan.rows[0].data
    assert first["name"] == "华东重工股份有限公司" and first["industry"] == "manufacturing"
    assert first["province"] == "浙江省" and first["city"] == "杭州市" and first["region"] == "east"
    assert first["annual_revenue"] == Decimal("12000000.00")
    assert first["employee_count"] == 1200 and first["influence_score"] == 8
    assert first["customer_since"] == dt.date(2023, 3, 1)
    assert first["tags"] == ["重点", "制造"]
    assert plan.rows[1].data["annual_revenue"] == Decimal("12000.00")
    assert (Customer.objects.count(), AuditEvent.objects.count()) == before, "a dry run writes nothing"


def test_the_import_writes_through_the_services_and_is_audited_as_an_import(tmp_path: Path, rep1: Any) -> None:
    plan = plan_import(_csv(tmp_path), user=rep1, kind="customers")
    written = commit_plan(plan, user=rep1, file_name="客户.csv")
    assert written.counts == {"create": 2}
    made = Customer.objects.get(code="C-IMP-001")
    assert made.owner == rep1, "a rep's imported customers are theirs"
    events = AuditEvent.objects.filter(source="import").order_by("seq")
    assert [event.action for event in events] == ["create", "create", "bulk"]
    assert events[0].request_id == events[2].request_id and events[0].object_id == str(made.pk)
    summary = events[2].changes["summary"]["after"]
    assert summary["file"] == "客户.csv" and summary["written"] == {"create": 2}


def test_importing_the_same_file_again_changes_nothing(tmp_path: Path, rep1: Any) -> None:
    path = _csv(tmp_path)
    commit_plan(plan_import(path, user=rep1, kind="customers"), user=rep1, file_name="a")
    again = plan_import(path, user=rep1, kind="customers", key="code")
    assert again.counts == {"unchanged": 2}, [(r.action, r.problems) for r in again.rows]
    assert commit_plan(again, user=rep1, file_name="a").counts == {}
    assert Customer.objects.filter(code__startswith="C-IMP").count() == 2


def test_modes_and_keys(tmp_path: Path, rep1: Any) -> None:
    CustomerFactory(owner=rep1, code="C-IMP-001", name="旧名称")
    created = plan_import(_csv(tmp_path), user=rep1, kind="customers", mode="create")
    assert created.counts == {"duplicate": 1, "create": 1}
    updated = plan_import(_csv(tmp_path), user=rep1, kind="customers", mode="update")
    assert updated.counts == {"update": 1, "error": 1}
    assert "C-IMP-002" in str(updated.rows[1].values) and updated.rows[1].problems
    upsert = plan_import(_csv(tmp_path), user=rep1, kind="customers")
    assert upsert.counts == {"update": 1, "create": 1}
    commit_plan(upsert, user=rep1, file_name="a")
    assert Customer.objects.get(code="C-IMP-001").name == "华东重工股份有限公司"


def test_a_key_held_beyond_the_users_reach_is_refused_without_a_word_of_it(
    tmp_path: Path, rep1: Any, rep2: Any
) -> None:
    CustomerFactory(owner=rep2, code="C-IMP-001", name="别人的客户")
    plan = plan_import(_csv(tmp_path), user=rep1, kind="customers")
    assert plan.counts == {"error": 1, "create": 1}
    message = plan.rows[0].problems[0].message
    assert "别人的客户" not in message


def test_every_problem_is_at_its_row_and_column_and_the_report_marks_it(tmp_path: Path, rep1: Any) -> None:
    text = (
        "客户名称,年营业额,合作开始日期,所属行业,员工人数\n"
        "甲公司,很多,2023-02-30,制造业,12\n"
        "乙公司,100,2023-03-01,不存在的行业,1.5\n"
        "丙公司,200,2023-03-02,零售批发,30\n"
    )
    plan = plan_import(_csv(tmp_path, text), user=rep1, kind="customers")
    assert plan.counts == {"error": 2, "create": 1}
    where = {(p.row, column_letter(p.column) if p.column is not None else None) for p in plan.problems}
    assert where == {(2, "B"), (2, "C"), (3, "D"), (3, "E")}
    report = tmp_path / "errors.xlsx"
    assert write_error_report(plan, report) == 2
    sheet = openpyxl.load_workbook(report).active
    assert [cell.value for cell in sheet[1]][-1] in ("错误", "Errors")
    assert sheet["A2"].value == "甲公司" and sheet["B2"].value == "很多", "the user's own values"
    assert sheet["B2"].fill.fgColor.rgb.endswith("F8D7DA") and sheet["B2"].comment is not None
    assert sheet["F2"].value and "年营业额" in sheet["F2"].value
    assert sheet["F4"].value is None and sheet["A4"].fill.fgColor.rgb in ("00000000", None)


def test_a_column_the_role_may_not_write_is_refused_and_not_written(tmp_path: Path, rep1: Any) -> None:
    FieldPermission.objects.update_or_create(
        resource="customers", field="annual_revenue", role="rep", defaults={"level": "read"}
    )
    plan = plan_import(_csv(tmp_path), user=rep1, kind="customers")
    assert [(header, bool(reason)) for _c, header, reason in plan.refused] == [("年营业额（万元）", True)]
    assert "annual_revenue" not in plan.rows[0].data
    commit_plan(plan, user=rep1, file_name="a")
    assert Customer.objects.get(code="C-IMP-001").annual_revenue is None


def test_contacts_find_their_customer_only_among_the_users_own(tmp_path: Path, rep1: Any, rep2: Any) -> None:
    mine = CustomerFactory(owner=rep1, code="C-MINE")
    CustomerFactory(owner=rep2, code="C-THEIRS")
    text = (
        "客户编号,联系人,职位,联系方式,邮箱\n"
        "C-MINE,王经理,采购经理,+86 138-0013-8000,Wang@Example.com\n"
        "C-MINE,李工,工程师,021-61234567,li@example.com\n"
        "C-THEIRS,赵总,总经理,13900139000,zhao@example.com\n"
    )
    plan = plan_import(_csv(tmp_path, text), user=rep1, kind="contacts")
    assert plan.counts == {"create": 2, "error": 1}
    assert plan.rows[0].data["customer"].pk == mine.pk and plan.rows[0].data["mobile"] == "13800138000"
    assert plan.rows[0].data["email"] == "wang@example.com"
    assert plan.rows[1].data["phone"] == "021-61234567", "a landline in 联系方式 goes to the phone"
    assert "C-THEIRS" in plan.rows[2].problems[0].message
    commit_plan(plan, user=rep1, file_name="c")
    assert Contact.objects.filter(customer=mine).count() == 2


def test_an_xlsx_with_formulas_imports_the_values_excel_shows(tmp_path: Path, rep1: Any) -> None:
    path = tmp_path / "客户.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    for index, header in enumerate(["客户名称", "年营业额", "员工人数"]):
        sheet.write(0, index, header)
    sheet.write(1, 0, "甲公司")
    sheet.write_formula(1, 1, "=1000*12", None, 12000)
    sheet.write_formula(1, 2, "=10+5", None, 15)
    book.close()
    plan = plan_import(path, user=rep1, kind="customers")
    assert plan.rows[0].data["annual_revenue"] == Decimal("12000.00") and plan.rows[0].data["employee_count"] == 15


def test_an_export_edited_and_imported_back_changes_exactly_the_edited_cells(api: Any, admin_user: Any) -> None:
    first = CustomerFactory(code="C-RT-1", city="杭州市", annual_revenue=Decimal("500.00"), tags=["甲"])
    second = CustomerFactory(code="C-RT-2", city="苏州市")
    response = api(admin_user).get("/api/v1/customers/export/", {"format": "xlsx", "ordering": "code"})
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = book.active
    headers = [cell.value for cell in sheet[1]]
    city = headers.index("城市") + 1
    for row in sheet.iter_rows(min_row=2):
        if row[headers.index("客户编号")].value == "C-RT-1":
            row[city - 1].value = "宁波市"
    edited = Path(__file__).parent / "_edited.xlsx"
    book.save(edited)
    try:
        plan = plan_import(edited, user=admin_user, kind="customers", key="code")
    finally:
        edited.unlink()
    actions = {row.values[headers.index("客户编号")]: row.action for row in plan.rows}
    assert actions == {"C-RT-1": "update", "C-RT-2": "unchanged"}, [r.problems for r in plan.rows]
    version = Customer.objects.get(pk=first.pk).version
    commit_plan(plan, user=admin_user, file_name="edited.xlsx")
    fresh = Customer.objects.get(pk=first.pk)
    assert fresh.city == "宁波市" and fresh.version == version + 1
    assert fresh.annual_revenue == Decimal("500.00") and fresh.tags == ["甲"]
    event = AuditEvent.objects.filter(source="import", action="update").latest("seq")
    assert set(event.changes) == {"city"}, event.changes
    assert Customer.objects.get(pk=second.pk).version == second.version


def test_the_command_reports_and_imports(tmp_path: Path, rep1: Any) -> None:
    path = _csv(tmp_path)
    out = StringIO()
    call_command("import_xlsx", "customers", str(path), "--dry-run", "--as", rep1.username, stdout=out)
    text = out.getvalue()
    assert "2 create" in text and "Dry run" in text and "-> name" in text
    assert not Customer.objects.filter(code__startswith="C-IMP").exists()
    call_command("import_xlsx", "customers", str(path), "--as", rep1.username, stdout=StringIO())
    assert Customer.objects.filter(code__startswith="C-IMP", owner=rep1).count() == 2
    bad = _csv(tmp_path, "客户名称,年营业额\n甲公司,很多\n", name="bad.csv")
    out = StringIO()
    with pytest.raises(CommandError, match="Nothing to import"):
        call_command("import_xlsx", "customers", str(bad), "--as", rep1.username, stdout=out)
    assert "row 2, column B" in out.getvalue() and (tmp_path / "bad-errors.xlsx").exists()
    with pytest.raises(CommandError):
        call_command("import_xlsx", "customers", str(tmp_path / "missing.csv"), stdout=StringIO())


def test_dates_out_of_the_business_range_are_errors_at_the_dry_run(tmp_path: Path, rep1: Any) -> None:
    """An order placed in 1900 or in 2099 is a typing mistake: said at its row and column
    before anything is written, as the services would refuse it at the commit."""
    CustomerFactory(owner=rep1, code="C-DR-1")
    rows = ["C-DR-1,DR-1,1900/3/1,100", "C-DR-1,DR-2,2099/3/1,100", "C-DR-1,DR-3,2024/3/1,100"]
    text = "客户编号,外部单号,下单日期,金额\n" + "\n".join(rows) + "\n"
    plan = plan_import(_csv(tmp_path, text, name="订单.csv"), user=rep1, kind="transactions")
    assert plan.counts == {"error": 2, "create": 1}, [p.message for p in plan.problems]
    first, second = plan.rows[0].problems, plan.rows[1].problems
    assert [p.column for p in first] == [2] and "下单日期" in first[0].message and "1980-01-01" in first[0].message
    assert [p.column for p in second] == [2]
