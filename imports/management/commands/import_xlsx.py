"""``manage.py import_xlsx KIND FILE [--dry-run] [--as USERNAME] [--mode M] [--key K] [--mapping NAME]
[--encoding E] [--delimiter D] [--errors PATH] [--create-duplicates]``: import a workbook or CSV file of
customers, contacts or orders as a user (their record scope and field policy apply).

It prints how the columns were matched, what the rows would do (created, updated,
unchanged, duplicates, errors), every problem at its row and column, and where the
error report was written; with ``--dry-run`` nothing is written.  It exits non-zero
when nothing could be imported.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from crm.core.errors import DomainError
from crm.core.management.users import acting_user

from ...committing import commit_plan, commit_workbook
from ...kinds import KINDS, MODES
from ...models import SavedMapping
from ...planning import plan_import, plan_workbook
from ...report import column_letter, write_error_report
from ...rows import CREATE, UPDATE


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
        try:
            if options["kind"] == "archive":
                plans = plan_workbook(path, user=user, mode=options["mode"])
            else:
                plans = [
                    plan_import(
                        path,
                        user=user,
                        kind=options["kind"],
                        mode=options["mode"],
                        key=options["key"],
                        mapping=mapping,
                        encoding=options["encoding"],
                        delimiter=options["delimiter"],
                    )
                ]
        except DomainError as error:
            raise CommandError(error.message) from error
        creatable = False
        for plan in plans:
            self._report(path, plan, options, several=len(plans) > 1)
            counts = plan.counts
            creatable = creatable or bool(counts[CREATE] or counts[UPDATE])
            if options["create_duplicates"]:
                creatable = creatable or any(row.suspected for row in plan.rows)
        if not creatable:
            raise CommandError("Nothing to import.")
        if options["dry_run"]:
            self.stdout.write("Dry run: nothing was written.")
            return
        try:
            if options["kind"] == "archive":
                results = commit_workbook(
                    plans, user=user, file_name=path.name, create_duplicates=options["create_duplicates"]
                )
            else:
                results = [
                    commit_plan(
                        plans[0],
                        user=user,
                        file_name=path.name,
                        create_duplicates=options["create_duplicates"],
                        progress=self._progress,
                    )
                ]
        except DomainError as error:
            raise CommandError(error.message) from error
        for plan, written in zip(plans, results, strict=True):
            counts = written.counts
            self.stdout.write(
                f"Imported {plan.kind.code} as {user.username}: {counts['create']} created, {counts['update']} updated."
            )

    def _progress(self, done: int, total: int) -> None:
        self.stdout.write(f"  written {done:,} of {total:,} rows ({done * 100 // max(total, 1)}%)")

    def _report(self, path: Path, plan: Any, options: dict[str, Any], *, several: bool) -> None:
        counts = plan.counts
        decoded = f", {plan.encoding}, delimiter {plan.delimiter!r}" if plan.encoding else ""
        self.stdout.write(
            f"Read {path.name} (sheet {plan.table.name} as {plan.kind.code}{decoded}): {len(plan.rows)} rows."
        )
        for match in plan.matches:
            target = match.field or "(not imported)"
            how = f" ({match.how})" if match.how else ""
            self.stdout.write(f"  column {column_letter(match.column)} {match.header!r} -> {target}{how}")
        for column, header, reason in plan.refused:
            self.stdout.write(f"  column {column_letter(column)} {header!r} refused: {reason}")
        summary = ", ".join(f"{counts[action]} {action}" for action in ("create", "update", "unchanged", "duplicate"))
        self.stdout.write(f"Rows: {summary}, {counts['error']} with errors.")
        for problem in plan.problems[:200]:
            where = f"row {problem.row}" + (
                f", column {column_letter(problem.column)}" if problem.column is not None else ""
            )
            self.stdout.write(f"  {where}: {problem.message}")
        if len(plan.problems) > 200:
            self.stdout.write(f"  … and {len(plan.problems) - 200} more (see the error report).")
        if plan.problems:
            default = f"{path.stem}-{plan.table.name}-errors.xlsx" if several else f"{path.stem}-errors.xlsx"
            report = Path(options["errors"] or path.with_name(default))
            if several and options["errors"]:
                report = report.with_name(f"{report.stem}-{plan.table.name}{report.suffix}")
            write_error_report(plan, report)
            self.stdout.write(f"Error report: {report}")
