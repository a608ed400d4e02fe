"""``manage.py import_xlsx KIND FILE [--dry-run] [--as USERNAME] [--mode M] [--key K] [--mapping NAME]
[--encoding E] [--delimiter D] [--errors PATH] [--create-duplicates]``: import a workbook or CSV file of
customers, contacts or orders as a user (their record scope and field policy apply).

It prints how the columns were matched, what the rows would do (created, updated,
unchanged, duplicates, errors), every problem at its row and column, and where the
error report was written; with ``--dry-run`` nothing is written.  It exits non-zero
when nothing could be imported.
"""

from __future__ import annotations

import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from crm.core.errors import DomainError
from crm.core.management.users import acting_user

from ...committing import Written, commit_windows, commit_workbook
from ...kinds import KINDS, MODES
from ...models import SavedMapping
from ...planning import plan_import_windows, plan_workbook
from ...report import ErrorReport, column_letter, write_error_report
from ...rows import CREATE, PROPOSED, UNCHANGED, UPDATE, Plan, Problem


class Command(BaseCommand):
    help = "Import a workbook or CSV file (customers, contacts, transactions) as a user; --dry-run writes nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=[*sorted(KINDS), "archive"], help="archive: a workbook of several sheets")
        parser.add_argument("file")
        parser.add_argument("--dry-run", action="store_true", help="Check and report; write nothing.")
        parser.add_argument("--as", dest="username", help="Import as this user (default: the first active admin).")
        parser.add_argument("--mode", choices=MODES, default="upsert", help="create, update, or upsert (default).")
        parser.add_argument("--key", help="The field that finds an existing record (e.g. code, tax_id, email).")
        parser.add_argument("--mapping", help="Map the columns as the mapping saved under this name.")
        parser.add_argument("--encoding", help="A CSV file's encoding, when the guess is wrong (e.g. gb18030).")
        parser.add_argument("--delimiter", help="A CSV file's delimiter, when the guess is wrong.")
        parser.add_argument("--errors", help="Where to write the error report (default: beside the file).")
        parser.add_argument(
            "--create-duplicates", action="store_true", help="Create the customers only suspected to be duplicates."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No file at {path}.")
        user = acting_user(options["username"])
        mapping = None
        if options["mapping"]:
            saved = SavedMapping.objects.filter(kind=options["kind"], name=options["mapping"]).first()
            if saved is None:
                raise CommandError(f"No mapping of {options['kind']} is called {options['mapping']!r}.")
            mapping = saved.mapping
        if options["kind"] == "archive":
            self._workbook(path, user, options)
            return
        planned = dict(
            user=user,
            kind=options["kind"],
            mode=options["mode"],
            key=options["key"],
            mapping=mapping,
            encoding=options["encoding"],
            delimiter=options["delimiter"],
        )
        # First the dry run, a window of rows at a time (the error report written as it
        # goes), then, unless a dry run was asked for, the same windows read again and
        # written, all in one transaction: any size of file in the memory of a window.
        with tempfile.TemporaryDirectory() as folder:
            scratch = Path(folder) / "errors.xlsx"
            try:
                summary = self._check(plan_import_windows(path, **planned), scratch)
            except DomainError as error:
                raise CommandError(error.message) from error
            self._report(path, summary, options, several=False, scratch=scratch)
        if not summary.writes(options["create_duplicates"]):
            raise CommandError("Nothing to import.")
        if options["dry_run"]:
            self.stdout.write("Dry run: nothing was written.")
            return
        # The progress counts records written (a row that only proposes writes none).
        total = summary.writes(options["create_duplicates"]) - summary.only_proposing
        try:
            written = commit_windows(
                plan_import_windows(path, **planned),
                user=user,
                file_name=path.name,
                create_duplicates=options["create_duplicates"],
                progress=self._progress,
                total=total,
            )
        except DomainError as error:
            raise CommandError(error.message) from error
        self._imported(options["kind"], user, written)

    def _check(self, windows: Iterator[Plan], scratch: Path) -> _Summary:
        """Sum up the dry run of ``windows``, writing the error report to ``scratch``."""
        report = ErrorReport(scratch)
        summary: _Summary | None = None
        try:
            for plan in windows:
                if summary is None:
                    summary = _Summary(plan)
                summary.add(plan)
                report.add(plan)
        finally:
            report.close()
        assert summary is not None  # a table without rows still gives one plan
        return summary

    def _workbook(self, path: Path, user: Any, options: dict[str, Any]) -> None:
        """A workbook of several sheets, checked and written together."""
        try:
            plans = plan_workbook(path, user=user, mode=options["mode"])
        except DomainError as error:
            raise CommandError(error.message) from error
        summaries = [_Summary(plan).add(plan) for plan in plans]
        for plan, summary in zip(plans, summaries, strict=True):
            self._report(path, summary, options, several=len(plans) > 1, plan=plan)
        if not any(summary.writes(options["create_duplicates"]) for summary in summaries):
            raise CommandError("Nothing to import.")
        if options["dry_run"]:
            self.stdout.write("Dry run: nothing was written.")
            return
        try:
            results = commit_workbook(
                plans, user=user, file_name=path.name, create_duplicates=options["create_duplicates"]
            )
        except DomainError as error:
            raise CommandError(error.message) from error
        for plan, written in zip(plans, results, strict=True):
            self._imported(plan.kind.code, user, written)

    def _imported(self, kind: str, user: Any, written: Written) -> None:
        counts = written.counts
        self.stdout.write(
            f"Imported {kind} as {user.username}: {counts['create']} created, {counts['update']} updated."
        )
        if counts[PROPOSED]:
            waits = "1 change waits" if counts[PROPOSED] == 1 else f"{counts[PROPOSED]} changes wait"
            self.stdout.write(f"{waits} for approval (change requests for review).")

    def _progress(self, done: int, total: int) -> None:
        self.stdout.write(f"  written {done:,} of {total:,} rows ({done * 100 // max(total, 1)}%)")

    def _report(
        self,
        path: Path,
        summary: _Summary,
        options: dict[str, Any],
        *,
        several: bool,
        scratch: Path | None = None,
        plan: Plan | None = None,
    ) -> None:
        """Print what the dry run found, and write or move the error report beside the
        file (``scratch``: the report written as the windows were checked; ``plan``: a
        workbook's sheet, whose report is written now)."""
        first, counts = summary.first, summary.counts
        decoded = f", {first.encoding}, delimiter {first.delimiter!r}" if first.encoding else ""
        self.stdout.write(
            f"Read {path.name} (sheet {first.table.name} as {first.kind.code}{decoded}): {summary.rows} rows."
        )
        for match in first.matches:
            target = match.field or "(not imported)"
            how = f" ({match.how})" if match.how else ""
            self.stdout.write(f"  column {column_letter(match.column)} {match.header!r} -> {target}{how}")
        for column, header, reason in first.refused:
            self.stdout.write(f"  column {column_letter(column)} {header!r} refused: {reason}")
        shown = ", ".join(f"{counts[action]} {action}" for action in ("create", "update", "unchanged", "duplicate"))
        self.stdout.write(f"Rows: {shown}, {counts['error']} with errors.")
        if counts[PROPOSED]:
            self.stdout.write(
                f"{_changes(counts[PROPOSED])} will wait for approval: values of fields the user may only propose "
                "go to a manager for review, and the records keep theirs until approved."
            )
        for problem in summary.problems:
            where = f"row {problem.row}" + (
                f", column {column_letter(problem.column)}" if problem.column is not None else ""
            )
            self.stdout.write(f"  {where}: {problem.message}")
        if summary.problem_count > len(summary.problems):
            self.stdout.write(f"  … and {summary.problem_count - len(summary.problems)} more (see the error report).")
        if summary.problem_count:
            default = f"{path.stem}-{first.table.name}-errors.xlsx" if several else f"{path.stem}-errors.xlsx"
            report = Path(options["errors"] or path.with_name(default))
            if several and options["errors"]:
                report = report.with_name(f"{report.stem}-{first.table.name}{report.suffix}")
            if plan is not None:
                write_error_report(plan, report)
            elif scratch is not None:
                shutil.copyfile(scratch, report)
            self.stdout.write(f"Error report: {report}")


class _Summary:
    """The dry run of a file summed over its windows: the first window (its columns),
    the counts, the first problems in words and how many there are in all."""

    SHOWN = 200

    def __init__(self, first: Plan) -> None:
        self.first = first
        self.counts: Counter[str] = Counter()
        self.rows = 0
        self.suspected = 0
        #: Rows that change nothing on their record but propose changes for review.
        self.only_proposing = 0
        self.problems: list[Problem] = []
        self.problem_count = 0

    def writes(self, create_duplicates: bool) -> int:
        """How many rows the import would write: those to create or update, those that
        only propose changes for review, and the suspected duplicates when they are
        created anyway."""
        suspected = self.suspected if create_duplicates else 0
        return self.counts[CREATE] + self.counts[UPDATE] + self.only_proposing + suspected

    def add(self, plan: Plan) -> _Summary:
        self.counts.update(plan.counts)
        self.rows += len(plan.rows)
        self.suspected += sum(1 for row in plan.rows if row.suspected)
        self.only_proposing += sum(1 for row in plan.rows if row.action == UNCHANGED and row.proposed)
        problems = plan.problems
        self.problem_count += len(problems)
        self.problems += problems[: max(0, self.SHOWN - len(self.problems))]
        return self


def _changes(n: int) -> str:
    return "1 change" if n == 1 else f"{n} changes"
