"""A workbook of several sheets (customers, their contacts, their orders) imported in one
dry run: each sheet recognised by its headers, rows linked to customers the same
workbook creates, all written in one transaction."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter
from django.core.management import CommandError, call_command

from customers.models import Contact, Customer
from imports.committing import commit_workbook
from imports.planning import plan_workbook
from tests.factories import CustomerFactory, ProductFactory
from transactions.models import Transaction

pytestmark = pytest.mark.django_db


def _workbook(path: Path, sheets: dict[str, list[list[Any]]]) -> Path:
    book = xlsxwriter.Workbook(str(path))
    for name, rows in sheets.items():
        sheet = book.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is not None:
                    sheet.write(r, c, value)
    book.close()
    return path


def _archive(tmp_path: Path, existing_code: str = "C-OLD") -> Path:
    ProductFactory(name="年度维护服务", sku="SVC-1")
    return _workbook(
        tmp_path / "档案.xlsx",
        {
            "说明": [["这是一份客户档案"]],
            "客户": [["客户编号", "客户名称", "所属行业", "城市"], ["C-NEW", "新客户有限公司", "制造业", "杭州"]],
            "联系人": [
                ["客户编号", "联系人", "职位", "手机"],
                ["C-NEW", "王经理", "采购经理", "13800138000"],
                [existing_code, "李工", "工程师", "13900139000"],
            ],
            "订单": [
                ["客户编号", "产品", "数量", "单价", "金额", "下单日期", "订单号"],
                ["C-NEW", "年度维护服务", 1, "¥10,000", "¥10,000", "2024-03-01", "SO-1"],
            ],
        },
    )


def test_each_sheet_is_recognised_and_linked_to_the_customers_it_creates(tmp_path: Path, rep1: Any) -> None:
    CustomerFactory(owner=rep1, code="C-OLD")
    plans = plan_workbook(_archive(tmp_path), user=rep1)
    assert [(plan.kind.code, plan.table.name) for plan in plans] == [
        ("customers", "客户"), ("contacts", "联系人"), ("transactions", "订单"),
    ]  # fmt: skip
    assert [plan.counts for plan in plans] == [{"create": 1}, {"create": 2}, {"create": 1}], [
        [problem.message for problem in plan.problems] for plan in plans
    ]
    assert not Customer.objects.filter(code="C-NEW").exists(), "the dry run writes nothing"
    commit_workbook(plans, user=rep1, file_name="档案.xlsx")
    new = Customer.objects.get(code="C-NEW")
    assert list(Contact.objects.filter(customer=new).values_list("name", flat=True)) == ["王经理"]
    assert Contact.objects.filter(customer__code="C-OLD", name="李工").exists()
    order = Transaction.objects.get(customer=new)
    assert order.external_ref == "SO-1" and order.amount == 10000


def test_a_row_naming_no_customer_of_the_user_is_an_error(tmp_path: Path, rep1: Any, rep2: Any) -> None:
    CustomerFactory(owner=rep2, code="C-OLD")
    plans = plan_workbook(_archive(tmp_path), user=rep1)
    contacts = plans[1]
    assert contacts.counts == {"create": 1, "error": 1}
    assert "C-OLD" in contacts.rows[1].problems[0].message


def test_the_command_imports_a_whole_workbook_or_nothing(tmp_path: Path, rep1: Any) -> None:
    CustomerFactory(owner=rep1, code="C-OLD")
    path = _archive(tmp_path)
    out = StringIO()
    call_command("import_xlsx", "archive", str(path), "--as", rep1.username, stdout=out)
    assert "Imported transactions" in out.getvalue()
    assert Transaction.objects.filter(customer__code="C-NEW").count() == 1
    empty = _workbook(tmp_path / "空.xlsx", {"说明": [["没有表格"], ["只有文字"]]})
    with pytest.raises(CommandError):
        call_command("import_xlsx", "archive", str(empty), "--as", rep1.username, stdout=StringIO())
