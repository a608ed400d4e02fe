"""An import job writes a chunk at a time: its progress moves chunk by chunk, a row
refused at the commit stops it with the rows before kept and named, it can be cancelled
and resumed, and what a stopped import wrote can be undone.  The command prints its
progress, and the page shows the progress bar and the buttons."""

from __future__ import annotations

import io
from io import StringIO
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from customers.models import Customer
from imports import services
from imports.management.commands import import_xlsx
from imports.models import ImportJob
from imports.planning import plan_import_windows
from tests.factories import CustomerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("two_row_chunks")]


@pytest.fixture
def two_row_chunks() -> Any:
    with override_settings(CRM_IMPORT_CHUNK_ROWS=2):
        yield


def _content(prefix: str, n: int = 5) -> bytes:
    lines = "".join(f"{prefix}-{i},{prefix}分块测试{i}号有限公司\n" for i in range(n))
    return f"客户编号,客户名称\n{lines}".encode("gb18030")


def _started(user: Any, prefix: str, n: int = 5) -> ImportJob:
    job, _plan = services.import_check(actor=user, file_name="分块.csv", content=_content(prefix, n), kind="customers")
    assert job.counts == {"create": n}
    return services.import_start(actor=user, job=job, expected_version=job.version)


def _taken_while_importing(monkeypatch: pytest.MonkeyPatch, owner: Any, code: str) -> list[Any]:
    """Someone else takes ``code`` after the worker planned the file, before it writes."""
    planned = services.windows_of
    taken: list[Any] = []

    def plan_then_take(job: ImportJob, actor: Any) -> Any:
        for window in planned(job, actor):
            if not taken:
                taken.append(CustomerFactory(owner=owner, code=code))
            yield window

    monkeypatch.setattr(services, "windows_of", plan_then_take)
    return taken


def test_a_refused_row_stops_the_import_and_a_resume_finishes_it_once(
    rep1: Any, outsider: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = _started(rep1, "CK")
    taken = _taken_while_importing(monkeypatch, outsider, "CK-3")
    job = services.import_run(job_id=job.pk)
    assert job is not None and job.state == "failed"
    assert (job.done_rows, job.to_write, job.last_row) == (2, 5, 3), "the first chunk (rows 2 and 3) landed"
    assert "第 5 行" in job.message and "继续导入" in job.message
    assert job.records.count() == 2 and job.percent == 40
    assert set(Customer.objects.filter(owner=rep1).values_list("code", flat=True)) == {"CK-0", "CK-1"}

    taken[0].delete()
    job = services.import_start(actor=rep1, job=job, expected_version=job.version)
    job = services.import_run(job_id=job.pk)
    assert job is not None and job.state == "done" and job.percent == 100
    assert job.counts["written"] == {"create": 5} and job.records.count() == 5
    assert Customer.objects.filter(code__startswith="CK-", owner=rep1).count() == 5
    assert services.import_run(job_id=job.pk).state == "done"  # type: ignore[union-attr]
    assert Customer.objects.filter(code__startswith="CK-").count() == 5, "a second delivery writes nothing"


def test_a_cancelled_import_keeps_what_it_wrote_and_can_be_resumed_or_undone(rep1: Any) -> None:
    job = _started(rep1, "CX")
    job = services.import_cancel(actor=rep1, job=job, expected_version=job.version)
    assert job.cancel_requested
    job = services.import_run(job_id=job.pk)
    assert job is not None and job.state == "cancelled" and job.done_rows == 0
    job = services.import_start(actor=rep1, job=job, expected_version=job.version)
    assert job.state == "importing" and not job.cancel_requested
    job = services.import_run(job_id=job.pk)
    assert job is not None and job.state == "done" and job.done_rows == 5
    undone, kept = services.import_undo(actor=rep1, job=job, expected_version=job.version)
    assert (undone, kept) == (5, []) and not Customer.objects.filter(code__startswith="CX-").exists()


def test_what_a_failed_import_wrote_can_be_undone(rep1: Any, outsider: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    job = _started(rep1, "CU")
    _taken_while_importing(monkeypatch, outsider, "CU-2")
    job = services.import_run(job_id=job.pk)
    assert job is not None and job.state == "failed" and job.done_rows == 2
    undone, _kept = services.import_undo(actor=rep1, job=job, expected_version=job.version)
    assert undone == 2 and not Customer.objects.filter(code__startswith="CU-", owner=rep1).exists()


def test_rows_that_went_wrong_since_the_check_are_said_when_the_import_ends(rep1: Any, outsider: Any) -> None:
    job = _started(rep1, "CW")
    CustomerFactory(owner=outsider, code="CW-1")  # taken after the dry run, before the worker starts
    job = services.import_run(job_id=job.pk)
    assert job is not None and job.state == "done" and job.counts["written"] == {"create": 4}
    assert "1 行" in job.message and job.error_report is not None


def test_only_a_running_import_can_be_cancelled(rep1: Any) -> None:
    job, _plan = services.import_check(actor=rep1, file_name="a.csv", content=_content("CN", 1), kind="customers")
    from crm.core.errors import DomainError

    with pytest.raises(DomainError):
        services.import_cancel(actor=rep1, job=job, expected_version=job.version)


def test_the_command_prints_its_progress(tmp_path: Path, rep1: Any) -> None:
    path = tmp_path / "分块.csv"
    path.write_bytes(_content("CC"))
    out = StringIO()
    call_command("import_xlsx", "customers", str(path), "--as", rep1.username, stdout=out)
    text = out.getvalue()
    assert "written 2 of 5 rows (40%)" in text and "written 5 of 5 rows (100%)" in text
    assert Customer.objects.filter(code__startswith="CC-").count() == 5


def test_the_page_shows_the_progress_and_offers_cancel_then_resume(client: Any, rep1: Any, outsider: Any) -> None:
    job = _started(rep1, "CP")
    client.force_login(rep1)
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert 'data-testid="progress"' in page and 'aria-valuenow="0"' in page and 'data-testid="cancel"' in page
    answer = client.post(f"/imports/{job.pk}/cancel/", {"version": job.version})
    assert answer.status_code == 302
    job.refresh_from_db()
    assert job.cancel_requested
    assert "写完当前这批行后停止" in client.get(f"/imports/{job.pk}/").content.decode()
    services.import_run(job_id=job.pk)
    job.refresh_from_db()
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert 'data-testid="resume"' in page and 'data-testid="stopped"' in page
    assert client.post(f"/imports/{job.pk}/resume/", {"version": job.version}).status_code == 302
    job.refresh_from_db()
    assert job.state == "importing"
    stale = client.post(f"/imports/{job.pk}/cancel/", {"version": job.version - 1})
    assert stale.status_code == 302 and not ImportJob.objects.get(pk=job.pk).cancel_requested
    assert client.post(f"/imports/{job.pk}/cancel/", {"version": "x"}).status_code == 302
    client.force_login(outsider)
    assert client.post(f"/imports/{job.pk}/cancel/", {"version": job.version}).status_code == 404


@override_settings(CRM_IMPORT_WINDOW_ROWS=2)
def test_a_file_is_checked_and_imported_a_window_of_rows_at_a_time(rep1: Any, tmp_path: Any) -> None:
    """What spans windows still spans the file: a key twice, a customer twice, the date
    order, the counts, the first problems and the error report of every row."""
    text = (
        "客户编号,客户名称,合作开始日期,城市\n"
        "CW-1,窗口甲有限公司,2024/3/15,杭州\n"
        "CW-2,窗口乙有限公司,2024/3/16,杭州\n"
        "CW-3,窗口丙有限公司,不是日期,杭州\n"
        "CW-1,窗口丁有限公司,2024/3/18,杭州\n"
        "CW-5,窗口甲股份有限公司,2024/3/19,杭州\n"
        "CW-6,窗口戊有限公司,2024/3/20,杭州\n"
    )
    path = tmp_path / "w.csv"
    path.write_text(text, encoding="utf-8")
    windows = list(plan_import_windows(path, user=rep1, kind="customers"))
    assert [len(plan.rows) for plan in windows] == [2, 2, 2]
    actions = [row.action for plan in windows for row in plan.rows]
    assert actions == ["create", "create", "error", "error", "duplicate", "create"]
    assert "row 2" in windows[1].rows[1].problems[0].message or "第 2 行" in windows[1].rows[1].problems[0].message
    job, _plan = services.import_check(actor=rep1, file_name="w.csv", content=text.encode(), kind="customers")
    assert job.counts == {"create": 3, "error": 2, "duplicate": 1} and job.rows == 6
    assert [problem["row"] for problem in job.details["problems"]] == [4, 5, 6]
    report = openpyxl.load_workbook(io.BytesIO(bytes(job.error_report))).active
    assert [row[0] for row in report.iter_rows(min_row=2, values_only=True)] == [
        "CW-1", "CW-2", "CW-3", "CW-1", "CW-5", "CW-6"
    ]  # fmt: skip
    job = services.import_start(actor=rep1, job=job, expected_version=job.version)
    job = services.import_run(job_id=job.pk)
    assert job is not None and job.state == "done" and job.to_write == job.done_rows == 3
    assert sorted(Customer.objects.filter(code__startswith="CW-").values_list("code", flat=True)) == [
        "CW-1", "CW-2", "CW-6"
    ]  # fmt: skip


def test_the_command_checks_and_writes_a_window_of_rows_at_a_time(
    tmp_path: Path, rep1: Any, outsider: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file longer than a window: the dry run sums every window (counts, problems in
    words, one error report with every row), and the import writes them all in one
    transaction, so a row refused in a late window leaves nothing written."""
    settings.CRM_IMPORT_WINDOW_ROWS = 3
    settings.CRM_IMPORT_CHUNK_ROWS = 2
    lines = [f"CW-{i:02d},窗口测试公司{i},{'很多' if i in (1, 7) else '1.2万'}" for i in range(10)]
    path = tmp_path / "窗口.csv"
    path.write_text("客户编号,客户名称,年营业额\n" + "\n".join(lines) + "\n", encoding="utf-8")
    out = StringIO()
    call_command("import_xlsx", "customers", str(path), "--as", rep1.username, stdout=out)
    text = out.getvalue()
    assert "): 10 rows." in text and "Rows: 8 create, 0 update, 0 unchanged, 0 duplicate, 2 with errors." in text
    assert "row 3, column C" in text and "row 9, column C" in text
    assert "written 8 of 8 rows (100%)" in text and "8 created" in text
    assert Customer.objects.filter(code__startswith="CW-").count() == 8
    report = openpyxl.load_workbook(tmp_path / "窗口-errors.xlsx").active
    assert report.max_row == 11 and report["A11"].value == "CW-09"
    assert report["D3"].value and report["D9"].value and not report["D4"].value

    taken = [f"CX-{i:02d},窗口二公司{i}" for i in range(10)]
    again = tmp_path / "窗口二.csv"
    again.write_text("客户编号,客户名称\n" + "\n".join(taken) + "\n", encoding="utf-8")
    calls = []

    def taken_meanwhile(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        for number, plan in enumerate(plan_import_windows(*args, **kwargs)):
            if len(calls) == 2 and number == 2:
                CustomerFactory(code="CX-08", owner=outsider)  # by someone else, since the check
            yield plan

    monkeypatch.setattr(import_xlsx, "plan_import_windows", taken_meanwhile)
    with pytest.raises(CommandError, match="第 10 行"):
        call_command("import_xlsx", "customers", str(again), "--as", rep1.username, stdout=StringIO())
    assert not Customer.objects.filter(code__startswith="CX-", owner=rep1).exists()
