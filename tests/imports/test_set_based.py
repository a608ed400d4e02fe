"""The commit writes a chunk in a few statements whatever its size: the statements one
chunk runs do not grow with its rows, for customers, contacts and orders, created and
updated, as a rep and as a manager; and what it writes is what the one-record services
write (an audit event per record with its values, versions, codes, derived fields)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.audit.models import AuditEvent
from crm.core.errors import DomainError
from customers.models import Contact, Customer
from imports.committing import commit_plan
from imports.planning import plan_import
from tests.factories import CustomerFactory
from transactions.models import Transaction

pytestmark = pytest.mark.django_db


def _file(tmp_path: Path, name: str, header: str, lines: list[str]) -> Path:
    path = tmp_path / name
    path.write_text(header + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def _commit_queries(path: Path, user: Any, kind: str, **options: Any) -> tuple[int, Any]:
    plan = plan_import(path, user=user, kind=kind, **options)
    assert not plan.problems, [p.message for p in plan.problems]
    with CaptureQueriesContext(connection) as queries:
        written = commit_plan(plan, user=user, file_name=path.name)
    return len(queries), written


def _customers(tmp_path: Path, user: Any, prefix: str, n: int) -> tuple[int, Any]:
    city = {"QA": "浙江省杭州市", "QB": "广东省深圳市"}.get(prefix, "四川省成都市")
    lines = [f"{prefix}-{i:04d},{prefix}测试公司{i}有限公司,制造业,{city},1.2万" for i in range(n)]
    path = _file(tmp_path, f"{prefix}.csv", "客户编号,客户名称,所属行业,所在地区,年营业额（万元）", lines)
    return _commit_queries(path, user, "customers")


@pytest.mark.parametrize("who", ["rep1", "manager"])
def test_creating_customers_takes_the_same_statements_for_5_rows_as_for_60(
    tmp_path: Path, who: str, request: pytest.FixtureRequest
) -> None:
    user = request.getfixturevalue(who)
    few, _written = _customers(tmp_path, user, "QA", 5)
    many, written = _customers(tmp_path, user, "QB", 60)
    assert many == few, f"{few} statements for 5 rows, {many} for 60"
    assert few <= 16, "a chunk is a handful of statements (savepoints included)"
    made = Customer.objects.filter(code__startswith="QB-")
    assert made.count() == 60 and {c.owner_id for c in made} == {user.pk}
    assert {c.team_id for c in made} == {user.team_id}
    assert made.first().annual_revenue == Decimal("12000.00")  # type: ignore[union-attr]
    events = AuditEvent.objects.filter(request_id=written.import_id, action="create")
    assert events.count() == 60
    event = events.get(object_id=str(made.get(code="QB-0007").pk))
    assert event.changes["name"]["after"] == "QB测试公司7有限公司" and event.customer_id == int(event.object_id)


def test_customers_without_a_code_get_one_each_in_one_statement(tmp_path: Path, rep1: Any) -> None:
    lines = [f"无编号测试公司{i}有限公司,制造业" for i in range(30)]
    path = _file(tmp_path, "nocode.csv", "客户名称,所属行业", lines)
    _count, written = _commit_queries(path, rep1, "customers")
    codes = list(Customer.objects.filter(name__startswith="无编号测试公司").values_list("code", flat=True))
    assert len(codes) == 30 == len(set(codes)) and all(code.startswith("C") for code in codes)
    assert written.counts == {"create": 30}


def test_updating_customers_takes_the_same_statements_for_5_rows_as_for_60(tmp_path: Path, rep1: Any) -> None:
    for i in range(60):
        CustomerFactory(code=f"QU-{i:04d}", owner=rep1, name=f"旧名称{i}")
    counts = []
    for n in (5, 60):
        lines = [f"QU-{i:04d},新名称{n}-{i}" for i in range(n)]
        path = _file(tmp_path, f"u{n}.csv", "客户编号,客户名称", lines)
        count, written = _commit_queries(path, rep1, "customers", mode="update")
        assert written.counts == {"update": n}
        counts.append(count)
    assert counts[0] == counts[1], counts
    customer = Customer.objects.get(code="QU-0003")
    assert customer.name == "新名称60-3" and customer.version == 3
    events = AuditEvent.objects.filter(object_id=str(customer.pk), action="update").order_by("seq")
    assert [e.changes["name"] for e in events] == [
        {"before": "旧名称3", "after": "新名称5-3"},
        {"before": "新名称5-3", "after": "新名称60-3"},
    ]


def test_contacts_and_orders_take_the_same_statements_for_5_rows_as_for_60(tmp_path: Path, rep1: Any) -> None:
    counts = {}
    for n in (5, 60):
        customers = [CustomerFactory(code=f"QC{n}-{i:03d}", owner=rep1) for i in range(3)]
        lines = [f"QC{n}-{i % 3:03d},联系人{n}-{i},1380013{n:02d}{i:02d},c{n}-{i}@example.cn,{'是' if i < 3 else '否'}"
                 for i in range(n)]  # fmt: skip
        path = _file(tmp_path, f"c{n}.csv", "客户编号,姓名,手机,邮箱,主要联系人", lines)
        counts[("contacts", n)], _written = _commit_queries(path, rep1, "contacts", mode="create")
        lines = [f'QC{n}-{i % 3:03d},ERP-{n}-{i},2024-05-0{1 + i % 9},"¥{i + 1},000",已付款' for i in range(n)]
        path = _file(tmp_path, f"o{n}.csv", "客户编号,外部单号,下单日期,金额,订单状态", lines)
        counts[("orders", n)], _written = _commit_queries(path, rep1, "transactions", mode="create")
    assert counts[("contacts", 5)] == counts[("contacts", 60)], counts
    assert counts[("orders", 5)] == counts[("orders", 60)], counts
    primaries = Contact.objects.filter(is_primary=True, customer__in=customers)
    assert primaries.count() == 3, "the last primary contact given for a customer takes over"
    assert set(primaries.values_list("customer_id", flat=True)) == {c.pk for c in customers}
    order = Transaction.objects.get(external_ref="ERP-60-7")
    assert order.sales_rep_id == rep1.pk and order.paid_amount == order.amount and order.paid_date is not None


def test_a_row_refused_at_the_commit_is_named_and_nothing_is_written(tmp_path: Path, rep1: Any) -> None:
    lines = [f"QR-{i:04d},拒绝测试公司{i}" for i in range(20)]
    path = _file(tmp_path, "r.csv", "客户编号,客户名称", lines)
    plan = plan_import(path, user=rep1, kind="customers")
    CustomerFactory(code="QR-0012")  # taken since the dry run, by someone else's customer
    with pytest.raises(DomainError, match="第 14 行"):
        commit_plan(plan, user=rep1, file_name=path.name)
    assert not Customer.objects.filter(code__startswith="QR-", owner=rep1).exists()


def _contact_lines(n: int, rep: Any) -> tuple[str, list[str]]:
    """Each contact of a customer of its own, named by its code."""
    for i in range(n):
        CustomerFactory(code=f"QD{n}-{i}", owner=rep)
    lines = [f"QD{n}-{i},联系人{i},1380013{n:02d}{i:02d},d{n}-{i}@example.cn" for i in range(n)]
    return "客户编号,姓名,手机,邮箱", lines


def _customer_lines(n: int, rep: Any) -> tuple[str, list[str]]:
    lines = [f"QU{n}-{i:03d},唯一测试{n}公司{i},91330{n:03d}{i:010d},制造业,浙江省杭州市" for i in range(n)]
    return "客户编号,客户名称,统一社会信用代码,所属行业,所在地区", lines


@pytest.mark.parametrize(("kind", "make"), [("contacts", _contact_lines), ("customers", _customer_lines)])
def test_a_dry_run_asks_the_same_statements_for_5_rows_as_for_60(
    tmp_path: Path, rep1: Any, kind: str, make: Any
) -> None:
    """Keys, unique values (a code taken by anyone) and linked customers are asked once
    for the window, never once a row."""
    counts = []
    for n in (5, 60):
        header, lines = make(n, rep1)
        path = _file(tmp_path, f"d{n}.csv", header, lines)
        with CaptureQueriesContext(connection) as queries:
            plan = plan_import(path, user=rep1, kind=kind, mode="create")
        # A rep only proposes a customer's tax id: each new customer's is proposed.
        proposed = {"proposed": n} if kind == "customers" else {}
        assert plan.counts == {"create": n, **proposed}, [p.message for p in plan.problems]
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


@pytest.mark.parametrize("who", ["rep1", "manager"])
def test_a_code_another_customer_holds_is_refused_at_its_row_and_column(
    tmp_path: Path, who: str, request: pytest.FixtureRequest
) -> None:
    """A row may not take a code that is another customer's, even one the user cannot
    see (asked once for the whole window); a customer's own code is its to keep."""
    user = request.getfixturevalue(who)
    CustomerFactory(code="QT-HELD")  # someone else's
    own = CustomerFactory(code="QT-OWN", owner=user, tax_id="91330000000000001X")
    key = "tax_id" if who == "manager" else "code"
    lines = ["QT-HELD,新公司甲,91330000000000002X", "QT-OWN,旧公司改名,91330000000000001X", "QT-FREE,新公司乙,"]
    path = _file(tmp_path, "t.csv", "客户编号,客户名称,统一社会信用代码", lines)
    plan = plan_import(path, user=user, kind="customers", key=key)
    first, second, third = plan.rows
    assert first.action == "error" and [p.column for p in first.problems] == [0], first.problems
    assert "客户编号" in first.problems[0].message and "QT-HELD" not in first.problems[0].message
    assert second.action == "update" and second.record.pk == own.pk
    assert third.action == "create"
