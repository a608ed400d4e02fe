"""Every list exports as an Excel workbook (``export/?format=xlsx``): the same rows as the
list, through the field policy, with typed cells, headers in the reader's language, a
frozen and filtered header, no formula a spreadsheet would run, and an audit event.

The walk takes every resource of the registry, so a new list exports without a line here.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from io import StringIO
from typing import Any

import openpyxl
import pytest
from django.core.management import call_command
from django.utils import translation

from crm.access.models import FieldPermission
from crm.access.registry import all_resources, field_labels
from crm.audit.models import AuditEvent
from tests.factories import CustomerFactory, TransactionFactory

pytestmark = pytest.mark.django_db
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _book(response: Any) -> Any:
    assert response.status_code == 200, getattr(response, "content", b"")[:300]
    assert response["Content-Type"] == XLSX
    assert response["Content-Disposition"].startswith("attachment;") and ".xlsx" in response["Content-Disposition"]
    return openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))


def _rows(sheet: Any) -> list[list[Any]]:
    return [list(row) for row in sheet.iter_rows(values_only=True)]


@pytest.fixture
def book_of_demo_data(db: Any) -> None:
    call_command("seed_demo", "--customers", "12", "--seed", "5", stdout=StringIO())


@pytest.mark.parametrize("resource", [resource.name for resource in all_resources()])
def test_every_list_exports_the_rows_it_lists_as_a_workbook(
    api: Any, admin_user: Any, book_of_demo_data: None, resource: str
) -> None:
    client = api(admin_user)
    book = _book(client.get(f"/api/v1/{resource}/export/", {"format": "xlsx"}))
    # Listed after the export, which is itself an audit event.
    listed = client.get(f"/api/v1/{resource}/", {"page_size": 500}).json()
    sheet = book.active
    rows = _rows(sheet)
    viewset = next(entry.viewset for entry in all_resources() if entry.name == resource)
    with translation.override("zh-hans"):
        labels = dict(field_labels(viewset))
    assert rows[0] == [labels[name] for name in listed["results"][0]] if listed["results"] else rows[0]
    assert len(rows) - 1 == listed["count"], resource
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref is not None and sheet.auto_filter.ref.startswith("A1:")


def test_cells_are_typed_and_headers_follow_the_language(api: Any, rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    order = TransactionFactory(
        customer=customer, amount=Decimal("12345.60"), currency="CNY", status="paid",
        order_date=dt.date(2026, 3, 1), paid_amount=Decimal("12345.60"),
    )  # fmt: skip
    client = api(rep1)
    sheet = _book(client.get("/api/v1/transactions/export/", {"format": "xlsx"})).active
    header, row = _rows(sheet)[:2]
    cells = dict(zip(header, sheet[2], strict=True))
    assert "金额" in header and "下单日期" in header
    assert cells["金额"].value == pytest.approx(12345.6) and cells["金额"].data_type == "n"
    assert "¥" in cells["金额"].number_format
    assert cells["下单日期"].value.date() == dt.date(2026, 3, 1) and cells["下单日期"].is_date
    assert cells["状态"].value == "已付款", "a choice reads as its label in the reader's language"
    assert row[header.index("ID")] == order.pk
    english = _book(client.get("/api/v1/transactions/export/", {"format": "xlsx"}, HTTP_ACCEPT_LANGUAGE="en")).active
    english_header = _rows(english)[0]
    assert "Amount" in english_header and "Order date" in english_header


def test_the_workbook_follows_scope_filters_and_the_field_policy(api: Any, rep1: Any, rep2: Any) -> None:
    mine = CustomerFactory(owner=rep1, industry="it", tax_id="91310000MA1K000001")
    CustomerFactory(owner=rep1, industry="retail")
    CustomerFactory(owner=rep2, industry="it")
    FieldPermission.objects.update_or_create(
        resource="customers", field="tax_id", role="rep", defaults={"level": "masked"}
    )
    FieldPermission.objects.update_or_create(
        resource="customers", field="annual_revenue", role="rep", defaults={"level": "hidden"}
    )
    with translation.override("zh-hans"):
        labels = dict(field_labels(next(r.viewset for r in all_resources() if r.name == "customers")))
    sheet = _book(api(rep1).get("/api/v1/customers/export/", {"format": "xlsx", "industry": "it"})).active
    header, *rows = _rows(sheet)
    assert len(rows) == 1 and rows[0][header.index(labels["id"])] == mine.pk
    assert labels["annual_revenue"] not in header
    tax_id = rows[0][header.index(labels["tax_id"])]
    assert tax_id != "91310000MA1K000001" and tax_id.endswith("0001")


def test_no_cell_is_ever_a_formula(api: Any, rep1: Any) -> None:
    hostile = ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(A1)", "=cmd|' /C calc'!A0"]
    for index, text in enumerate(hostile):
        CustomerFactory(owner=rep1, name=f"客户{index}", website=text, notes=text)
    sheet = _book(api(rep1).get("/api/v1/customers/export/", {"format": "xlsx", "ordering": "name"})).active
    cells = [cell for row in sheet.iter_rows(min_row=2) for cell in row]
    assert all(cell.data_type != "f" for cell in cells)
    values = {cell.value for cell in cells if cell.data_type == "s"}
    assert set(hostile) <= values, "the text is kept as it was typed, as text"


def test_the_export_is_audited_with_its_format_and_bad_formats_are_refused(api: Any, rep1: Any) -> None:
    CustomerFactory(owner=rep1)
    client = api(rep1)
    _book(client.get("/api/v1/customers/export/", {"format": "xlsx"}))
    event = AuditEvent.objects.filter(action="export").latest("seq")
    assert event.actor_id == rep1.pk and event.changes["summary"]["after"]["format"] == "xlsx"
    for bad in ("xls", "json", "x" * 500):
        refused = client.get("/api/v1/customers/export/", {"format": bad}, HTTP_ACCEPT_LANGUAGE="en")
        assert refused.status_code == 400 and refused["Content-Type"].startswith("application/json")
        assert "format" in refused.json()["fields"]
    plain = client.get("/api/v1/customers/export/")
    assert plain["Content-Type"].startswith("text/csv"), "CSV stays the default"


def test_an_empty_list_exports_its_header(api: Any, rep1: Any) -> None:
    rows = _rows(_book(api(rep1).get("/api/v1/customers/export/", {"format": "xlsx"})).active)
    assert len(rows) == 1 and rows[0][0]


def test_the_command_exports_as_the_user_with_the_lists_filters(tmp_path: Any, rep1: Any, rep2: Any) -> None:
    from django.core.management import CommandError

    CustomerFactory(owner=rep1, industry="it", name="甲公司")
    CustomerFactory(owner=rep1, industry="retail")
    CustomerFactory(owner=rep2, industry="it")
    target = tmp_path / "mine.xlsx"
    out = StringIO()
    call_command("export_xlsx", "customers", str(target), "industry=it", "--as", rep1.username, stdout=out)
    assert "1 rows" in out.getvalue()
    rows = _rows(openpyxl.load_workbook(target).active)
    assert len(rows) == 2 and "甲公司" in rows[1]
    event = AuditEvent.objects.filter(action="export").latest("seq")
    assert event.actor_id == rep1.pk and event.source == "command"
    english = tmp_path / "all.csv"
    call_command("export_xlsx", "customers", str(english), "--as", rep2.username, stdout=StringIO())
    assert english.read_bytes().startswith("\ufeff".encode()), "a .csv file is CSV"
    for bad in (
        ["no-such-list", str(target)],
        ["customers", str(target), "industry"],
        ["customers", str(target), "--as", "nobody"],
    ):
        with pytest.raises(CommandError):
            call_command("export_xlsx", *bad, stdout=StringIO())
    FieldPermission.objects.update_or_create(
        resource="customers", field="annual_revenue", role="rep", defaults={"level": "hidden"}
    )
    with pytest.raises(CommandError, match="400"):
        call_command(
            "export_xlsx", "customers", str(target), "ordering=annual_revenue", "--as", rep1.username, stdout=StringIO()
        )
