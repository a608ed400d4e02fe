"""Every kind of record a customer's archive holds imports: follow-ups, service records,
feedback, satisfaction answers, campaign participation and personalised needs; those
with no natural key are found again by the id their export wrote."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from customers.models import Activity
from feedback.models import ServiceRecord
from imports.committing import commit_plan
from imports.kinds import KINDS
from imports.planning import plan_import
from tests.factories import ActivityFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def test_every_archive_section_can_be_imported() -> None:
    assert {"activities", "service-records", "feedback", "satisfaction-responses", "participations",
            "service-needs"} <= set(KINDS)  # fmt: skip


def test_follow_ups_and_service_records_from_a_csv(tmp_path: Path, rep1: Any) -> None:
    CustomerFactory(owner=rep1, code="C-K1")
    follow_ups = tmp_path / "跟进.csv"
    follow_ups.write_text("客户编号,类型,主题,发生时间,已完成\nC-K1,拜访,季度回访,2024-03-01,是\n", encoding="utf-8")
    plan = plan_import(follow_ups, user=rep1, kind="activities")
    assert plan.counts == {"create": 1}, [p.message for p in plan.problems]
    commit_plan(plan, user=rep1, file_name="跟进.csv")
    visit = Activity.objects.get(customer__code="C-K1")
    assert visit.kind == "visit" and visit.subject == "季度回访" and visit.done
    services = tmp_path / "服务.csv"
    services.write_text(
        "客户编号,服务日期,服务类型,服务内容,客户评分\nC-K1,2024/3/2,安装,设备安装调试,5\n", encoding="utf-8"
    )
    plan = plan_import(services, user=rep1, kind="service-records")
    assert plan.counts == {"create": 1}, [p.message for p in plan.problems]
    commit_plan(plan, user=rep1, file_name="服务.csv")
    assert ServiceRecord.objects.get(customer__code="C-K1").rating == 5


def test_an_exported_list_edited_and_imported_back_updates_by_id(api: Any, rep1: Any, tmp_path: Path) -> None:
    customer = CustomerFactory(owner=rep1)
    first = ActivityFactory(customer=customer, subject="第一次拜访")
    ActivityFactory(customer=customer, subject="第二次拜访")
    response = api(rep1).get("/api/v1/activities/export/", {"format": "xlsx"})
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = book.active
    headers = [cell.value for cell in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        if row[headers.index("ID")].value == first.pk:
            row[headers.index("主题")].value = "第一次拜访（已改）"
    path = tmp_path / "edited.xlsx"
    book.save(path)
    plan = plan_import(path, user=rep1, kind="activities")
    assert sorted(row.action for row in plan.rows) == ["unchanged", "update"], [p.message for p in plan.problems]
    commit_plan(plan, user=rep1, file_name="edited.xlsx")
    assert Activity.objects.get(pk=first.pk).subject == "第一次拜访（已改）"
    assert Activity.objects.count() == 2


def test_an_id_that_is_not_the_users_is_an_error(tmp_path: Path, rep1: Any, rep2: Any) -> None:
    theirs = ActivityFactory(customer=CustomerFactory(owner=rep2))
    CustomerFactory(owner=rep1, code="C-K2")
    path = tmp_path / "ids.csv"
    path.write_text(f"ID,客户编号,主题\n{theirs.pk},C-K2,改别人的\n", encoding="utf-8")
    plan = plan_import(path, user=rep1, kind="activities")
    assert plan.counts == {"error": 1}
    assert Activity.objects.get(pk=theirs.pk).subject != "改别人的"
