"""The star-rated table of seed 003 imports as it is: every column lands somewhere
meaningful, the tier and rating dates are kept with a history entry that says they were
imported, and the spend and purchase frequency are history the tier engine counts until
the orders recorded in the CRM take over."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter
from django.core.management import call_command
from django.utils import timezone

from customers.models import Customer
from imports import services as import_services
from imports.committing import commit_plan
from imports.planning import plan_import
from tests.core.test_sheet_reading import SEED_003
from tests.factories import CustomerFactory, TransactionFactory, tier
from tiers import services as tier_services
from tiers.choices import RunTrigger
from tiers.engine import explain_customer
from tiers.models import TierChange
from tiers.selectors import active_policy

pytestmark = pytest.mark.django_db

HEADERS = SEED_003
ROWS = [
    ["华东重工股份有限公司", "138-0013-8000", "¥520,000", "26次/年", "6年", "9分", "钻石", "2026/10/1", "2027/1/1"],
    [
        "杭州云栖科技有限公司",
        "0571-8888 6666",
        "12万",
        "5次/年",
        "2年",
        "6",
        "白银客户",
        "2026年10月1日",
        "2027年1月1日",
    ],
    ["宁波港联物流有限公司", "+86 139 0013 9000", "8,000元", "2", "18个月", "3", "★", "2026-09-15", "2026-12-15"],
]


def _star_table(tmp_path: Path, rows: list[list[Any]] = ROWS) -> Path:
    path = tmp_path / "星级客户管理表.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("星级客户")
    sheet.write_row(0, 0, HEADERS)
    for at, row in enumerate(rows, start=1):
        sheet.write_row(at, 0, row)
    book.close()
    return path


def test_every_column_of_the_star_table_lands_somewhere(tmp_path: Path, manager: Any, reference_tiers: None) -> None:
    plan = plan_import(_star_table(tmp_path), user=manager, kind="customers")
    landed = {match.header: match.field for match in plan.matches}
    assert landed == {
        "客户名称": "name",
        "联系方式": "phone",
        "消费金额": "history_spend",
        "购买频次": "history_orders",
        "使用年限": "years_as_customer",
        "影响力评分": "influence_score",
        "当前等级": "current_tier",
        "上次评级日期": "last_rated_on",
        "下一次评级日期": "next_rating_on",
    }
    assert not plan.refused and plan.counts == {"create": 3}, [p.message for p in plan.problems]
    first, second, third = (row.data for row in plan.rows)
    assert first["phone"] == "13800138000" and first["history_spend"] == Decimal("520000.00")
    assert first["history_orders"] == 26 and first["influence_score"] == 9
    assert second["phone"].startswith("0571") and second["history_spend"] == Decimal("120000.00")
    assert third["history_spend"] == Decimal("8000.00") and third["history_orders"] == 2
    today = timezone.localdate()
    assert abs((today - first["customer_since"]).days - round(6 * 365.25)) <= 1, "使用年限 gives the day it began"
    assert abs((today - third["customer_since"]).days - round(1.5 * 365.25)) <= 1, "months are read too"
    assert first["last_rated_on"] == dt.date(2026, 10, 1) and second["next_rating_on"] == dt.date(2027, 1, 1)
    assert [row.extras["current_tier"].code for row in plan.rows] == ["diamond", "silver", "bronze"]


def test_the_tier_and_rating_dates_are_kept_with_an_imported_history_entry(
    tmp_path: Path, manager: Any, reference_tiers: None
) -> None:
    plan = plan_import(_star_table(tmp_path), user=manager, kind="customers")
    commit_plan(plan, user=manager, file_name="星级客户管理表.xlsx")
    heavy = Customer.objects.get(name="华东重工股份有限公司")
    assert heavy.tier == tier("diamond") and timezone.localtime(heavy.tier_since).date() == dt.date(2026, 10, 1)
    assert heavy.last_rated_on == dt.date(2026, 10, 1) and heavy.next_rating_on == dt.date(2027, 1, 1)
    assert heavy.history_until == timezone.localdate(), "the history runs up to the day it was imported"
    change = TierChange.objects.get(customer=heavy)
    assert change.kind == "imported" and change.to_tier == tier("diamond") and change.changed_by == manager
    assert "星级客户管理表.xlsx" in change.reason
    assert heavy.version == 2, "the tier was set after the customer was created"


def test_a_rep_may_not_set_a_tier_and_is_told_why(tmp_path: Path, rep1: Any, reference_tiers: None) -> None:
    plan = plan_import(_star_table(tmp_path), user=rep1, kind="customers")
    assert [header for _column, header, _reason in plan.refused] == ["当前等级"]
    assert plan.refused[0][2] in ("Only a manager may set a customer's tier.", "只有经理可以设置客户的等级。")
    assert plan.counts == {"create": 3}, "the rest of the table still imports"
    commit_plan(plan, user=rep1, file_name="t.xlsx")
    assert not Customer.objects.filter(owner=rep1, tier__isnull=False).exists()


def test_an_unknown_tier_is_an_error_at_its_cell(tmp_path: Path, manager: Any, reference_tiers: None) -> None:
    rows = [[*ROWS[0][:6], "传奇", *ROWS[0][7:]]]
    plan = plan_import(_star_table(tmp_path, rows), user=manager, kind="customers")
    assert plan.counts == {"error": 1}
    problem = plan.rows[0].problems[0]
    assert problem.column == 6 and "传奇" in problem.message and "钻石" in problem.message


def test_undo_gives_an_updated_customer_its_tier_back(tmp_path: Path, manager: Any, reference_tiers: None) -> None:
    existing = CustomerFactory(owner=manager, name="华东重工股份有限公司", code="C-STAR-1", tier=tier("silver"))
    path = tmp_path / "t.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["客户编号", *HEADERS])
    sheet.write_row(1, 0, ["C-STAR-1", *ROWS[0]])
    book.close()
    job, plan = import_services.import_check(
        actor=manager, file_name="t.xlsx", content=path.read_bytes(), kind="customers", key="code"
    )
    assert plan.counts == {"update": 1}, [p.message for p in plan.problems]
    job = import_services.import_start(actor=manager, job=job, expected_version=job.version)
    job = import_services.import_run(job_id=job.pk)
    existing.refresh_from_db()
    assert job.state == "done" and existing.tier == tier("diamond") and existing.history_spend == 520000
    undone, kept = import_services.import_undo(actor=manager, job=job, expected_version=job.version)
    existing.refresh_from_db()
    assert (undone, kept) == (1, [])
    assert existing.tier == tier("silver") and existing.history_spend is None and existing.last_rated_on is None
    kinds = list(TierChange.objects.filter(customer=existing).order_by("id").values_list("kind", "to_tier__code"))
    assert kinds == [("imported", "diamond"), ("imported", "silver")], "the history says both"


def test_a_tier_alone_changed_is_an_update(tmp_path: Path, manager: Any, reference_tiers: None) -> None:
    plan = plan_import(_star_table(tmp_path), user=manager, kind="customers")
    commit_plan(plan, user=manager, file_name="a.xlsx")
    Customer.objects.filter(name="宁波港联物流有限公司").update(tier=tier("gold"))
    again = plan_import(_star_table(tmp_path), user=manager, kind="customers", mode="update", key="code")
    assert again.counts["error"] == 3, "without codes the rows name no customer"
    same = plan_import(_star_table(tmp_path), user=manager, kind="customers", mode="create")
    assert same.counts.get("duplicate", 0) == 3, "the same names again are suspected duplicates"


def test_the_engine_counts_imported_history_until_orders_take_over(manager: Any, reference_tiers: None) -> None:
    as_of = dt.datetime(2026, 6, 30, 4, 0, tzinfo=dt.UTC)
    bought = CustomerFactory(
        owner=manager,
        customer_since=dt.date(2026, 6, 1),
        influence_score=0,
        history_spend=Decimal("500000"),
        history_orders=24,
        history_until=dt.date(2026, 6, 30),
    )
    tier_services.tier_run_evaluate_now(actor=None, trigger=RunTrigger.COMMAND, as_of=as_of)
    bought.refresh_from_db()
    change = TierChange.objects.get(customer=bought)
    metrics = change.explanation["metrics"]
    # The whole year before the import is inside the window: all of it counts (40 + 20).
    assert Decimal(str(metrics["spend"])) == Decimal("500000.00") and metrics["orders"] == 24
    assert Decimal(str(metrics["history_spend"])) == Decimal("500000.00") and metrics["history_orders"] == 24
    assert bought.tier == tier("gold") and bought.lifecycle_stage != "churned"
    # Half a year on, half the imported year is still inside the window; an order
    # recorded since counts in full beside it.
    later = as_of + dt.timedelta(days=183)
    TransactionFactory(
        customer=bought, amount=Decimal("10000"), status="completed", order_date=later.date(), due_date=later.date()
    )
    explained = tier_services_explain(bought, later)
    assert explained["history_orders"] == 12 and explained["orders"] == 13
    assert Decimal(str(explained["history_spend"])) == pytest.approx(Decimal("250000"), abs=Decimal("1500"))
    # A year and more on, only the orders recorded here count.
    gone = tier_services_explain(bought, as_of + dt.timedelta(days=400))
    assert explained and gone["history_spend"] == 0 and gone["orders"] == 1


def tier_services_explain(customer: Customer, as_of: dt.datetime) -> dict[str, Any]:
    explained = explain_customer(policy=active_policy(), customer_id=customer.pk, as_of=as_of)
    assert explained is not None
    return explained["metrics"]


def test_the_seed_tables_own_rows_import_from_a_gb18030_csv(
    tmp_path: Path, admin_user: Any, reference_tiers: None
) -> None:
    text = (
        "客户名称,联系方式,消费金额,购买频次,使用年限,影响力评分,当前等级,上次评级日期,下一次评级日期\r\n"
        '张三,13812345678,"¥10,000",5次/年,2年,3分,白银,2023-03-01,2024-03-01\r\n'
        '李四,13912345678,"¥30,000",10次/年,3年,5分,铂金,2023-06-01,2024-06-01\r\n'
    )
    path = tmp_path / "星级客户管理表.csv"
    path.write_bytes(text.encode("gb18030"))
    out = StringIO()
    call_command("import_xlsx", "customers", str(path), "--as", admin_user.username, stdout=out)
    zhang = Customer.objects.get(name="张三")
    assert zhang.phone == "13812345678" and zhang.history_spend == Decimal("10000.00") and zhang.history_orders == 5
    assert zhang.influence_score == 3 and zhang.tier == tier("silver") and zhang.next_rating_on == dt.date(2024, 3, 1)
    li = Customer.objects.get(name="李四")
    assert li.tier == tier("platinum") and li.last_rated_on == dt.date(2023, 6, 1)
    assert TierChange.objects.filter(kind="imported").count() == 2
