"""The error report: the user's own rows, as they wrote them, with an added column that
says what is wrong with each, the bad cells marked red and commented, and every column
problem on its header, ready to fix and import again."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import xlsxwriter
from django.http import FileResponse, Http404
from django.utils.translation import gettext as _

from crm.core.spreadsheets import xlsx_download

from .models import ImportJob
from .rows import Plan

_COLUMN_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def column_letter(index: int) -> str:
    """Excel's name of a column (0 → A, 26 → AA)."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = _COLUMN_LETTERS[remainder] + letters
    return letters


def write_error_report(plans: Plan | Sequence[Plan], target: str | Path | IO[bytes]) -> int:
    """Write the report of ``plans`` (one, or a workbook's sheets: a sheet each) to
    ``target`` (a path or a binary file); returns how many rows have problems."""
    report = ErrorReport(target)
    for plan in [plans] if isinstance(plans, Plan) else plans:
        report.add(plan)
    return report.close()


class ErrorReport:
    """The error report, written a plan at a time in constant memory: each table a sheet
    of its own, and the windows of one table (``planning.plan_windows``) one after the
    other on its sheet."""

    def __init__(self, target: str | Path | IO[bytes]) -> None:
        self.book = xlsxwriter.Workbook(
            str(target) if isinstance(target, (str, Path)) else target,
            {
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
                "constant_memory": True,
            },
        )
        self.bold = self.book.add_format({"bold": True, "bg_color": "#F2F2F2"})
        self.bad = self.book.add_format({"bg_color": "#F8D7DA", "font_color": "#842029"})
        self.error_text = self.book.add_format({"font_color": "#842029", "text_wrap": True})
        self.date_format = self.book.add_format({"num_format": "yyyy-mm-dd"})
        #: Each table's sheet, the next row to write on it, and its width.
        self.sheets: dict[int, list[Any]] = {}
        self.names: set[str] = set()
        self.failed = 0

    def add(self, plan: Plan) -> int:
        """Write the rows of ``plan`` below those of its table already written; returns
        how many have problems."""
        state = self.sheets.get(id(plan.table))
        if state is None:
            state = self.sheets[id(plan.table)] = [self._sheet(plan), 1, len(plan.table.headers)]
        sheet, at, width = state
        failed = 0
        for row in plan.rows:
            columns = {problem.column for problem in row.problems if problem.column is not None}
            for index, value in enumerate(row.values):
                _write(sheet, at, index, value, self.bad if index in columns else None, self.date_format)
            for problem in row.problems:
                if problem.column is not None:
                    sheet.write_comment(at, problem.column, problem.message)
            if row.problems:
                failed += 1
                messages = "\n".join(problem.message for problem in row.problems)
                sheet.write_string(at, width, messages, self.error_text)
            at += 1
        state[1] = at
        self.failed += failed
        return failed

    def _sheet(self, plan: Plan) -> Any:
        name = (plan.table.name or "Sheet1")[:31]
        while name in self.names:
            name = f"{name[:28]}-{len(self.names)}"
        self.names.add(name)
        sheet = self.book.add_worksheet(name)
        headers = plan.table.headers
        for index, header in enumerate(headers):
            sheet.write_string(0, index, header, self.bold)
        sheet.write_string(0, len(headers), _("Errors"), self.bold)
        for problem in plan.column_problems:
            if problem.column is not None:
                sheet.write_comment(0, problem.column, problem.message)
        sheet.freeze_panes(1, 0)
        sheet.set_column(len(headers), len(headers), 60)
        return sheet

    def close(self) -> int:
        """Finish the workbook; returns how many rows have problems in all."""
        for sheet, at, width in self.sheets.values():
            sheet.autofilter(0, 0, max(at - 1, 1), width)
        self.book.close()
        return self.failed


def _write(sheet: Any, at: int, index: int, value: Any, cell_format: Any, date_format: Any) -> None:
    if value is None:
        sheet.write_blank(at, index, None, cell_format)
    elif isinstance(value, bool):
        sheet.write_boolean(at, index, value, cell_format)
    elif isinstance(value, (int, float)):
        sheet.write_number(at, index, value, cell_format)
    elif isinstance(value, (dt.date, dt.datetime)):
        sheet.write_datetime(at, index, value, cell_format or date_format)
    else:
        sheet.write_string(at, index, str(value), cell_format)


def error_report_download(job: ImportJob) -> FileResponse:
    """The error report a check kept for ``job``, as a download; 404 when the file had
    no problem."""
    report = ImportJob.objects.filter(pk=job.pk).values_list("error_report", flat=True).first()
    if not report:
        raise Http404
    stem = job.file_name.rsplit(".", 1)[0]
    return xlsx_download(lambda target: target.write(bytes(report)), f"{stem}-errors.xlsx")
