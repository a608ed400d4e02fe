"""What an import plans, row by row: the shapes the dry run, the duplicate checks, the
error report and the commit share."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from crm.core.spreadsheets.headers import Match
from crm.core.spreadsheets.reading import Table

from .kinds import CUSTOMER_REFERENCES, ImportKind

#: The actions a row may take.
CREATE, UPDATE, UNCHANGED, DUPLICATE, ERROR = "create", "update", "unchanged", "duplicate", "error"
#: The count of rows whose values of fields the user may only propose become a change
#: request (one per record) waiting for a manager's approval.
PROPOSED = "proposed"


@dataclass
class Problem:
    """One thing wrong, at its row (as numbered in the file) and column (``None``: the
    whole row)."""

    row: int
    column: int | None
    message: str


@dataclass
class Row:
    number: int
    values: list[Any]
    action: str = CREATE
    data: dict[str, Any] = field(default_factory=dict)
    record: Any = None
    problems: list[Problem] = field(default_factory=list)
    #: A duplicate only suspected (a similar customer), which the user may create anyway.
    suspected: bool = False
    #: The customer the row looks like, when the user may see it (the user may choose to
    #: update it instead).
    duplicate_of: int | None = None
    #: The customer a row names that another sheet of the workbook creates: (how, value).
    customer_ref: tuple[str, str] | None = None
    #: Values of columns the user may not write: never written, but a tax id the user may
    #: not fill in still tells a duplicate.
    evidence: dict[str, Any] = field(default_factory=dict)
    #: What the row's extra columns give beyond the record's fields (the tier a table
    #: gave a customer: ``current_tier``).
    extras: dict[str, Any] = field(default_factory=dict)
    #: The values of fields the user may only propose that differ from the record's (a
    #: new record's: its defaults): one change request for the record, never written.
    proposed: dict[str, Any] = field(default_factory=dict)

    @property
    def proposes(self) -> bool:
        """Whether importing the row proposes changes for review (a row in error or a
        suspected duplicate proposes nothing unless it is written after all)."""
        return bool(self.proposed) and self.action in (CREATE, UPDATE, UNCHANGED)

    def customer_references(self, record: Any = None) -> list[tuple[str, str]]:
        """How other sheets may name the customer this row creates: by the code, tax id
        and name the row gives, and those the created ``record`` holds (a code the
        system assigned)."""
        references = []
        for how, name in CUSTOMER_REFERENCES:
            for value in (self.data.get(name) or self.evidence.get(name), getattr(record, name, None)):
                if value:
                    references.append((how, str(value)))
        return references


@dataclass
class Plan:
    """What an import of one table would do."""

    kind: ImportKind
    mode: str
    key: str
    table: Table
    matches: list[Match]
    #: Columns matched to a field the user may not fill: (column, header, reason).
    refused: list[tuple[int, str, str]]
    rows: list[Row]
    #: Problems of a whole column (a date column whose day and month order is unclear).
    column_problems: list[Problem] = field(default_factory=list)
    encoding: str | None = None
    delimiter: str | None = None
    #: The file's name, as the records' history names it.
    file_name: str = ""
    #: The fields the user may only propose (``Row.proposed``).
    proposable: set[str] = field(default_factory=set)

    @property
    def counts(self) -> Counter[str]:
        """How many rows take each action, and (``PROPOSED``) how many records get a
        change request for review."""
        counts = Counter(row.action for row in self.rows)
        proposals = sum(1 for row in self.rows if row.proposes)
        if proposals:
            counts[PROPOSED] = proposals
        return counts

    @property
    def problems(self) -> list[Problem]:
        return self.column_problems + [problem for row in self.rows for problem in row.problems]
