"""Imports at the ``propose`` level of the field policy: a rep's tax id and credit limit
columns become change requests (one per record) for a manager to approve, the other
columns are written as usual; the dry run, the commit, the job and the command say how
many changes wait for approval; undoing the import withdraws the requests still
pending; a manager importing the same file writes the values directly."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from crm.access.changes import change_approve
from crm.access.models import ChangeRequest
from crm.audit.models import AuditEvent
from customers.models import Customer
from imports import services
from imports.committing import commit_plan
from imports.models import ImportJob
from imports.planning import plan_import
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _language_left_as_it_was() -> Iterator[None]:
    """Pages asked in English leave the thread's language as it was for later tests."""
    with translation.override(settings.LANGUAGE_CODE):
        yield


HEADERS = ["客户编号", "客户名称", "tax_id", "credit_limit", "员工人数"]
OLD_TAX = ["91330100MA2B3C4D01", "91330100MA2B3C4D02", "91330100MA2B3C4D03"]
NEW_TAX = "91330100MA2B3C4D99"
FRESH_TAX = "91330100MA2B3C4D77"


@pytest.fixture
def book(rep1: Any) -> list[Customer]:
    """Three customers of rep1's, each with a tax id, a credit limit of 100,000 and 10
    employees."""
    return [
        CustomerFactory(
            owner=rep1, code=f"C-P-{n}", tax_id=OLD_TAX[n - 1], credit_limit=Decimal("100000.00"), employee_count=10
        )
        for n in (1, 2, 3)
    ]


def _workbook(path: Path, rows: list[list[Any]]) -> Path:
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("客户")
    for column, header in enumerate(HEADERS):
        sheet.write(0, column, header)
    for number, row in enumerate(rows, start=1):
        for column, value in enumerate(row):
            if value is not None:
                sheet.write(number, column, value)
    workbook.close()
    return path


def _file(tmp_path: Path, book: list[Customer]) -> Path:
    """Row 2 changes the tax id, the credit limit and the employees of C-P-1; row 3 says
    what C-P-2 holds already; row 4 raises C-P-3's credit limit only; row 5 is a new
    customer with a tax id and a credit limit."""
    names = [customer.name for customer in book]
    return _workbook(
        tmp_path / "客户.xlsx",
        [
            ["C-P-1", names[0], NEW_TAX, 250000, 20],
            ["C-P-2", names[1], OLD_TAX[1], 100000, 10],
            ["C-P-3", names[2], OLD_TAX[2], 300000, 10],
            ["C-P-NEW", "宁波新材料研究院有限公司", FRESH_TAX, 50000, 5],
        ],
    )


def test_a_reps_import_proposes_what_the_rep_may_only_propose_and_writes_the_rest(
    tmp_path: Path, rep1: Any, book: list[Customer]
) -> None:
    path = _file(tmp_path, book)
    plan = plan_import(path, user=rep1, kind="customers", key="code")
    assert not plan.refused, "a column the rep may propose is not refused"
    assert plan.counts == {"update": 1, "unchanged": 2, "create": 1, "proposed": 3}, [
        (row.action, [p.message for p in row.problems]) for row in plan.rows
    ]
    assert not ChangeRequest.objects.exists(), "a dry run proposes nothing"

    written = commit_plan(plan, user=rep1, file_name="客户.xlsx")
    assert written.counts == {"create": 1, "update": 1, "proposed": 3}
    first, second, third = (Customer.objects.get(pk=customer.pk) for customer in book)
    assert (first.tax_id, first.credit_limit, first.employee_count) == (OLD_TAX[0], Decimal("100000.00"), 20)
    assert (third.credit_limit, third.version) == (Decimal("100000.00"), 1), "only proposed: the record is as it was"
    assert second.version == 1
    new = Customer.objects.get(code="C-P-NEW")
    assert (new.tax_id, new.credit_limit, new.employee_count) == ("", None, 5), "created without the proposed values"

    requests = {change.record_id: change for change in ChangeRequest.objects.all()}
    assert set(requests) == {first.pk, third.pk, new.pk}
    assert all(change.status == "pending" and change.requested_by_id == rep1.pk for change in requests.values())
    assert requests[first.pk].changes == {"tax_id": NEW_TAX, "credit_limit": "250000.00"}
    assert requests[first.pk].previous == {"tax_id": OLD_TAX[0], "credit_limit": "100000.00"}
    assert requests[first.pk].record_version == first.version == 2
    assert requests[third.pk].changes == {"credit_limit": "300000.00"}
    assert requests[third.pk].previous == {"credit_limit": "100000.00"}
    assert requests[new.pk].changes == {"tax_id": FRESH_TAX, "credit_limit": "50000.00"}
    assert requests[new.pk].previous == {"tax_id": "", "credit_limit": None}
    assert requests[new.pk].customer_id == new.pk and requests[new.pk].record_version == 1
    events = AuditEvent.objects.filter(resource="access.changerequest", action="create", source="import")
    assert events.count() == 3 and {event.actor_id for event in events} == {rep1.pk}
    summary = AuditEvent.objects.get(source="import", action="bulk").changes["summary"]["after"]
    assert summary["counts"]["proposed"] == 3 and summary["written"]["proposed"] == 3


def test_an_approved_import_proposal_lands_on_the_record(
    tmp_path: Path, rep1: Any, manager: Any, book: list[Customer]
) -> None:
    commit_plan(plan_import(_file(tmp_path, book), user=rep1, kind="customers", key="code"), user=rep1, file_name="f")
    change = ChangeRequest.objects.get(record_id=book[0].pk)
    change_approve(actor=manager, request=change)
    book[0].refresh_from_db()
    assert (book[0].tax_id, book[0].credit_limit) == (NEW_TAX, Decimal("250000.00"))


def test_a_manager_importing_the_same_file_writes_directly(tmp_path: Path, manager: Any, book: list[Customer]) -> None:
    plan = plan_import(_file(tmp_path, book), user=manager, kind="customers", key="code")
    assert plan.counts == {"update": 2, "unchanged": 1, "create": 1}
    commit_plan(plan, user=manager, file_name="f")
    book[0].refresh_from_db()
    book[2].refresh_from_db()
    assert (book[0].tax_id, book[0].credit_limit) == (NEW_TAX, Decimal("250000.00"))
    assert book[2].credit_limit == Decimal("300000.00")
    assert Customer.objects.get(code="C-P-NEW").tax_id == FRESH_TAX
    assert not ChangeRequest.objects.exists()


def test_a_proposed_value_is_checked_as_the_api_checks_it(tmp_path: Path, rep1: Any, book: list[Customer]) -> None:
    path = _workbook(
        tmp_path / "bad.xlsx",
        [
            ["C-P-1", book[0].name, "not a tax id", None, None],
            ["C-P-2", book[1].name, OLD_TAX[2], None, None],  # C-P-3's tax id
        ],
    )
    with translation.override("en"):
        plan = plan_import(path, user=rep1, kind="customers", key="code")
    assert plan.counts == {"error": 2}
    assert "tax_id" in plan.rows[0].problems[0].message and plan.rows[0].problems[0].column == 2
    assert "already exists" in plan.rows[1].problems[0].message
    assert commit_plan(plan, user=rep1, file_name="bad").counts == {}
    assert not ChangeRequest.objects.exists()


def test_the_job_says_how_many_changes_wait_and_undo_withdraws_them(
    tmp_path: Path,
    client: Any,
    rep1: Any,
    manager: Any,
    book: list[Customer],
) -> None:
    content = _file(tmp_path, book).read_bytes()
    job, _plan = services.import_check(actor=rep1, file_name="客户.xlsx", content=content, kind="customers", key="code")
    assert job.counts["proposed"] == 3
    assert {column["field"]: column["review"] for column in job.details["columns"]}["tax_id"] is True
    client.force_login(rep1)
    for language, words in (("en", "3 changes will wait for approval"), ("zh-hans", "3 项修改将等待审批")):
        page = client.get(f"/imports/{job.pk}/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
        assert words in page, language
    services.import_start(actor=rep1, job=job, expected_version=job.version)
    services.import_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.state == "done", job.message
    assert job.counts["written"] == {"create": 1, "update": 1, "proposed": 3}
    page = client.get(f"/imports/{job.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "3 changes wait for approval" in page
    decided = ChangeRequest.objects.get(record_id=book[2].pk)
    change_approve(actor=manager, request=decided)

    with translation.override("en"):
        undone, kept = services.import_undo(actor=rep1, job=job, expected_version=job.version)
    assert undone == 2 and kept == ["2 change requests of the import were withdrawn."]
    statuses = dict(ChangeRequest.objects.values_list("record_id", "status"))
    assert statuses[book[0].pk] == "withdrawn" and statuses[book[2].pk] == "approved"
    assert len(statuses) == 3, "the created customer's request stays, withdrawn"
    assert not Customer.objects.filter(code="C-P-NEW").exists()
    book[0].refresh_from_db()
    assert (book[0].employee_count, book[0].tax_id) == (10, OLD_TAX[0])
    assert ImportJob.objects.get(pk=job.pk).state == "undone"


def test_the_command_says_how_many_changes_wait(tmp_path: Path, rep1: Any, book: list[Customer]) -> None:
    path = _file(tmp_path, book)
    out = StringIO()
    call_command("import_xlsx", "customers", str(path), "--as", rep1.username, "--key", "code", "--dry-run", stdout=out)
    assert "3 changes will wait for approval" in out.getvalue()
    assert not ChangeRequest.objects.exists()
    out = StringIO()
    call_command("import_xlsx", "customers", str(path), "--as", rep1.username, "--key", "code", stdout=out)
    text = out.getvalue()
    assert "1 created, 1 updated." in text and "3 changes wait for approval" in text
    assert ChangeRequest.objects.filter(status="pending").count() == 3
    # A file whose only effect is proposals is imported, not "nothing to import".
    only = _workbook(tmp_path / "only.xlsx", [["C-P-2", book[1].name, None, 120000, None]])
    out = StringIO()
    call_command("import_xlsx", "customers", str(only), "--as", rep1.username, "--key", "code", stdout=out)
    assert "1 change will wait for approval" in out.getvalue() and "1 change waits for approval" in out.getvalue()
    assert ChangeRequest.objects.filter(record_id=book[1].pk).get().changes == {"credit_limit": "120000.00"}


def test_proposals_cost_the_same_queries_for_one_row_or_many(tmp_path: Path, rep1: Any) -> None:
    """The change requests of a chunk are written together: an import of twelve rows
    that each propose runs as many statements as one of a single row."""
    queries = []
    for size in (1, 12):
        customers = [
            CustomerFactory(
                owner=rep1, code=f"C-Q{size}-{n}", tax_id=f"9133010{size:02d}A2B3C{n:04d}", employee_count=1
            )
            for n in range(size)
        ]
        rows = [[c.code, c.name, f"9133010{size:02d}A2B3D{n:04d}", 1000 + n, 2] for n, c in enumerate(customers)]
        plan = plan_import(_workbook(tmp_path / f"q{size}.xlsx", rows), user=rep1, kind="customers", key="code")
        assert plan.counts == {"update": size, "proposed": size}
        with CaptureQueriesContext(connection) as captured:
            commit_plan(plan, user=rep1, file_name="q")
        queries.append(len(captured.captured_queries))
    assert ChangeRequest.objects.count() == 13
    assert queries[0] == queries[1], queries
