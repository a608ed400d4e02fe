"""A workbook of several sheets imported as a whole on every channel (the page, the API,
a job on a worker): every sheet checked together in one dry run, its rows linked to the
customers the workbook creates, written a chunk at a time, resumed after a crash without
writing anything twice, and undone."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlsxwriter
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from customers.models import Contact, Customer
from imports import services
from imports.models import ImportedRecord, ImportJob
from imports.planning import plan_import
from tests.factories import CustomerFactory
from transactions.models import Transaction

pytestmark = pytest.mark.django_db

SHEETS = {
    "客户": [
        ["客户名称", "所属行业", "城市", "税号"],
        ["档案导入甲公司", "制造业", "杭州", "91330100MA2ARC0001"],
        ["档案导入乙公司", "零售批发", "上海", ""],
        ["档案导入丙公司", "不存在的行业", "苏州", ""],
    ],
    "联系人": [
        ["客户名称", "联系人", "手机", "职位"],
        ["档案导入甲公司", "王经理", "13800138001", "采购经理"],
        ["档案导入乙公司", "李总", "13800138002", "总经理"],
        ["档案导入甲公司", "赵工", "13800138003", "工程师"],
    ],
    "订单": [
        ["客户名称", "订单号", "交易金额", "下单日期", "订单状态"],
        ["档案导入甲公司", "SO-ARC-1", "¥12,000", "2026-03-01", "已完成"],
        ["档案导入乙公司", "SO-ARC-2", "3,000元", "2026/4/1", "已完成"],
    ],
}


def _workbook(sheets: dict[str, list[list[str]]] = SHEETS) -> bytes:
    target = io.BytesIO()
    book = xlsxwriter.Workbook(target)
    for name, rows in sheets.items():
        sheet = book.add_worksheet(name)
        for at, row in enumerate(rows):
            sheet.write_row(at, 0, row)
    book.close()
    return target.getvalue()


def _check(user: Any, content: bytes | None = None) -> ImportJob:
    job, _plan = services.import_check(
        actor=user, file_name="大客户档案.xlsx", content=content or _workbook(), kind="archive"
    )
    return job


def test_one_dry_run_checks_every_sheet_and_writes_nothing(manager: Any) -> None:
    job = _check(manager)
    sheets = {sheet["sheet"]: (sheet["kind"], sheet["counts"]) for sheet in job.details["sheets"]}
    assert sheets == {
        "客户": ("customers", {"create": 2, "error": 1}),
        "联系人": ("contacts", {"create": 3}),
        "订单": ("transactions", {"create": 2}),
    }
    assert job.counts == {"create": 7, "error": 1} and job.rows == 8 and job.problems == 1
    assert not Customer.objects.filter(name__startswith="档案导入").exists()
    report = openpyxl.load_workbook(io.BytesIO(bytes(job.error_report)))
    assert report.sheetnames == ["客户", "联系人", "订单"], "the report is the user's own workbook, sheet by sheet"
    assert report["客户"]["B4"].comment is not None


def test_the_job_writes_every_sheet_linked_and_undo_removes_it_all(manager: Any) -> None:
    job = _check(manager)
    job = services.import_start(actor=manager, job=job, expected_version=job.version)
    job = services.import_run(job_id=job.pk)
    assert job is not None and job.state == "done", job.message
    assert job.done_rows == job.to_write == 7 and job.percent == 100
    first = Customer.objects.get(name="档案导入甲公司")
    assert sorted(first.contacts.values_list("name", flat=True)) == ["王经理", "赵工"]
    assert Transaction.objects.get(external_ref="SO-ARC-2").customer.name == "档案导入乙公司"
    assert job.counts["written_by_kind"] == {
        "customers": {"create": 2},
        "contacts": {"create": 3},
        "transactions": {"create": 2},
    }
    assert set(ImportedRecord.objects.filter(job=job).values_list("kind", flat=True)) == {
        "customers",
        "contacts",
        "transactions",
    }
    undone, kept = services.import_undo(actor=manager, job=job, expected_version=job.version)
    assert (undone, kept) == (7, [])
    assert not Customer.objects.filter(name__startswith="档案导入").exists()
    assert not Contact.objects.filter(mobile__startswith="1380013800").exists()


@override_settings(CRM_IMPORT_CHUNK_ROWS=1)
def test_a_run_that_died_goes_on_without_writing_anything_twice(manager: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    job = _check(manager)
    job = services.import_start(actor=manager, job=job, expected_version=job.version)
    real = services.write_rows
    calls = {"n": 0}

    def dies_on_the_fourth_chunk(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 4:  # the second contact: after both customers and one contact
            raise RuntimeError("worker killed")
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "write_rows", dies_on_the_fourth_chunk)
    with pytest.raises(RuntimeError):
        services.import_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.state == "importing" and job.done_rows == 3
    monkeypatch.setattr(services, "write_rows", real)
    job = services.import_run(job_id=job.pk)  # the task delivered again
    assert job is not None and job.state == "done", job.message
    assert Customer.objects.filter(name__startswith="档案导入").count() == 2
    assert Contact.objects.filter(mobile__startswith="1380013800").count() == 3
    assert Contact.objects.get(name="李总").customer.name == "档案导入乙公司"
    assert Transaction.objects.filter(external_ref__startswith="SO-ARC").count() == 2
    assert job.done_rows == 7


def test_the_page_uploads_a_workbook_shows_each_sheet_and_imports_it(
    client: Any, manager: Any, tasks_run_here: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(manager)
    upload = {"kind": "archive", "mode": "upsert", "encoding": "", "file": SimpleUploadedFile("档案.xlsx", _workbook())}
    response = client.post("/imports/new/", upload)
    assert response.status_code == 302, response.content[:600]
    job = ImportJob.objects.get()
    page = client.get(f"/imports/{job.pk}/")
    text = page.content.decode()
    assert page.status_code == 200 and text.count('data-testid="sheet"') == 3
    assert "联系人" in text and "不存在的行业" in text and "职位" in text
    data = {"version": job.version, "mode": "upsert", "encoding": "", "import": "1"}
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(f"/imports/{job.pk}/", data, follow=True)
    assert done.status_code == 200
    job.refresh_from_db()
    assert job.state == "done", job.message
    assert Contact.objects.filter(customer__name="档案导入甲公司").count() == 2


def test_the_api_takes_a_workbook_as_archive(api: Any, manager: Any, tmp_path: Path) -> None:
    client = api(manager)
    response = client.post(
        "/api/v1/imports/",
        {"kind": "archive", "file": SimpleUploadedFile("档案.xlsx", _workbook())},
        format="multipart",
    )
    assert response.status_code == 201, response.content[:500]
    body = response.json()
    assert body["kind"] == "archive" and [sheet["kind"] for sheet in body["details"]["sheets"]] == [
        "customers",
        "contacts",
        "transactions",
    ]
    refused = client.post(
        "/api/v1/imports/",
        {"kind": "archive", "key": "code", "file": SimpleUploadedFile("档案.xlsx", _workbook())},
        format="multipart",
    )
    assert refused.status_code == 400 and "key" in refused.json()["fields"]


def test_a_file_of_contacts_names_its_customer_by_its_exact_name(rep1: Any, tmp_path: Path) -> None:
    customer = CustomerFactory(owner=rep1, name="按名称找到的公司")
    path = tmp_path / "联系人.csv"
    path.write_bytes(
        "客户名称,联系人,手机\n按名称找到的公司,王五,13800138009\n不存在的公司,赵六,13800138010\n".encode()
    )
    plan = plan_import(path, user=rep1, kind="contacts")
    assert plan.counts == {"create": 1, "error": 1}
    assert plan.rows[0].data["customer"] == customer
    assert "不存在的公司" in plan.rows[1].problems[0].message
