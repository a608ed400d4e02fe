"""Writing what a dry run planned, a chunk of rows at a time.

Each chunk goes through the resource's own services, so validation, the record scope,
the field policy, optimistic locking and one audit event per record (with its values
before and after, naming the import) are the same as on every other channel.  Where the
resource's viewset offers services for many records at once (``create_many_service``,
``update_many_service``: customers, contacts, orders), a chunk is a few statements
whatever its size; otherwise its rows are written one by one.  A chunk the database
refuses as a whole (a unique value taken since the check) is written again row by row,
to name the row at fault.  The values a row may only propose become change requests,
one per record, made together for the chunk (``crm.access.changes.change_propose_many``).

:func:`commit_plan` writes a whole plan in one transaction (the command, a workbook);
an import job writes chunk after chunk, each in a transaction of its own with the job's
progress (``services.import_run``).
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils.translation import gettext as _

from crm.access.changes import change_propose_many
from crm.access.models import ChangeRequest
from crm.access.registry import Resource, get_resource
from crm.access.scope import scoped_queryset
from crm.audit.choices import Action, Source
from crm.audit.context import audit_context
from crm.audit.services import audit_bulk
from crm.core.errors import DomainError
from tiers.services import tiers_import

from .kinds import position
from .rows import CREATE, DUPLICATE, PROPOSED, UNCHANGED, UPDATE, Plan, Row


def chunk_rows() -> int:
    """How many rows one chunk writes (``CRM_IMPORT_CHUNK_ROWS``)."""
    return max(1, int(getattr(settings, "CRM_IMPORT_CHUNK_ROWS", 1000)))


class RowRefused(DomainError):
    """A row the services refused at the commit (the book changed since the dry run)."""

    def __init__(self, row: int, message: str) -> None:
        self.row = row
        super().__init__(_("Row %(row)d: %(message)s") % {"row": row, "message": message})


@dataclass
class Done:
    """One row written: the record and what undoing it needs."""

    row: Row
    record: Any
    action: str
    #: For an update, the values the record had before (what undoing it restores).
    before: dict[str, Any]
    #: The change request proposing the row's values of fields the user may only
    #: propose (a row that only proposes is ``UNCHANGED``: its record is not written).
    proposal: ChangeRequest | None = None


@dataclass
class Written:
    """What an import wrote: the counts and, when ``keep_created`` (a workbook's
    customers, which its other sheets name), the record each row created.  Nothing else
    is kept per row, so a file of a million rows costs no more memory than a window."""

    counts: Counter[str] = field(default_factory=Counter)
    import_id: str = ""
    keep_created: bool = False
    #: The record each row created, by the row's number (with ``keep_created``).
    created: dict[int, Any] = field(default_factory=dict)

    def add(self, done: Sequence[Done]) -> None:
        self.counts.update(written_counts(done))
        for item in done:
            if item.action == CREATE and self.keep_created:
                self.created[item.row.number] = item.record

    @property
    def rows(self) -> int:
        """How many rows were written (records created or updated, or proposals made)."""
        return sum(count for action, count in self.counts.items() if action != PROPOSED)


def written_counts(done: Sequence[Done]) -> Counter[str]:
    """What a chunk wrote: records created and updated, and (``PROPOSED``) the change
    requests made for review."""
    counts: Counter[str] = Counter(item.action for item in done if item.action != UNCHANGED)
    proposals = sum(1 for item in done if item.proposal is not None)
    if proposals:
        counts[PROPOSED] = proposals
    return counts


def rows_to_write(plan: Plan, *, create_duplicates: bool = False) -> list[Row]:
    """The rows an import writes, in the file's order: those to create or update, those
    that only propose changes for review, and the suspected duplicates if the user chose
    to create them."""
    return [
        row
        for row in plan.rows
        if row.action in (CREATE, UPDATE)
        or (row.action == UNCHANGED and row.proposed)
        or (row.action == DUPLICATE and row.suspected and create_duplicates)
    ]


#: What the user may choose for a suspected duplicate.
SKIP, CREATE_ANYWAY, UPDATE_EXISTING = "skip", "create", "update"
DUPLICATE_CHOICES = (SKIP, CREATE_ANYWAY, UPDATE_EXISTING)


def apply_duplicate_choices(
    plan: Plan, choices: Mapping[str, str], *, user: Any, sheet: int = 0, create_duplicates: bool = False
) -> None:
    """Turn the suspected duplicates of ``plan`` into what the user chose for each (by
    its place in the file, ``kinds.position``): skipped (the default), created anyway
    (the default with ``create_duplicates``), or an update of the customer it looks
    like, found again among those the user may see (one query for the plan)."""
    default = CREATE_ANYWAY if create_duplicates else SKIP
    suspected = [row for row in plan.rows if row.action == DUPLICATE and row.suspected]
    chosen = {row.number: choices.get(str(position(sheet, row.number)), default) for row in suspected}
    wanted = [row.duplicate_of for row in suspected if chosen[row.number] == UPDATE_EXISTING and row.duplicate_of]
    resource = get_resource(plan.kind.resource)
    assert resource is not None
    existing = scoped_queryset(resource.model, user).in_bulk(wanted) if wanted else {}
    for row in suspected:
        choice = chosen[row.number]
        if choice == CREATE_ANYWAY:
            row.action = CREATE
        elif choice == UPDATE_EXISTING and row.duplicate_of in existing:
            row.action = UPDATE
            row.record = existing[row.duplicate_of]


def chunks(rows: Sequence[Row], size: int | None = None) -> Iterator[list[Row]]:
    size = size or chunk_rows()
    for start in range(0, len(rows), size):
        yield list(rows[start : start + size])


def write_rows(plan: Plan, rows: Sequence[Row], *, user: Any) -> list[Done]:
    """Write one chunk of rows as ``user``; returns what each row did.  Raises
    :class:`RowRefused` naming the first row a service refused (nothing of the chunk is
    written then)."""
    resource = get_resource(plan.kind.resource)
    assert resource is not None
    try:
        with transaction.atomic():
            done = _write(resource, rows, user=user, together=True)
            return _write_proposals(resource, rows, _write_tiers(plan, rows, done, user=user), user=user)
    except IntegrityError:
        # The database refused the chunk as a whole: row by row, to say which row.
        with transaction.atomic():
            done = _write(resource, rows, user=user, together=False)
            return _write_proposals(resource, rows, _write_tiers(plan, rows, done, user=user), user=user)


def _write_proposals(resource: Resource, rows: Sequence[Row], done: list[Done], *, user: Any) -> list[Done]:
    """Make the chunk's change requests: one per record whose row proposes values of
    fields the user may only propose, as the API does (the record keeps its values
    until a manager approves; a value equal to the record's proposes nothing), all in
    a few statements (``change_propose_many``).  A record the import creates is created
    without those values and the request proposes them.  A row that only proposes is
    kept as ``UNCHANGED``, with its request."""
    proposing = [row for row in rows if row.proposed]
    if not proposing:
        return done
    by_row = {item.row.number: item for item in done}
    records = [by_row[row.number].record if row.number in by_row else row.record for row in proposing]
    try:
        requests = change_propose_many(
            actor=user,
            resource=resource.name,
            entries=[(record, row.proposed) for record, row in zip(records, proposing, strict=True)],
        )
    except DomainError as error:
        raise RowRefused(proposing[0].number, _message(error)) from error
    for row, record, request in zip(proposing, records, requests, strict=True):
        if request is None:
            continue
        item = by_row.get(row.number)
        if item is None:
            item = Done(row, record, UNCHANGED, {})
            done.append(item)
        item.proposal = request
    done.sort(key=lambda item: item.row.number)
    return done


def _write_tiers(plan: Plan, rows: Sequence[Row], done: list[Done], *, user: Any) -> list[Done]:
    """Give the customers of the chunk the tiers their rows name (a star-rated table's
    当前等级, rated on its 上次评级日期), each with a history entry saying it was imported.
    Undoing the import gives an updated customer its tier back."""
    tiered = [row for row in rows if row.extras.get("current_tier") is not None and row.action != UNCHANGED]
    if not tiered:
        return done
    by_row = {item.row.number: item for item in done}
    entries = []
    for row in tiered:
        item = by_row.get(row.number)
        record = item.record if item is not None else row.record
        entries.append((record, row.extras["current_tier"], row.data.get("last_rated_on")))
    try:
        changes = tiers_import(actor=user, entries=entries, source=plan.file_name or plan.kind.code)
    except DomainError as error:
        raise RowRefused(tiered[0].number, _message(error)) from error
    moved = {change.customer_id for change in changes}
    for row, (record, _tier, _day) in zip(tiered, entries, strict=True):
        if record.pk not in moved:
            continue
        item = by_row.get(row.number)
        if item is None:
            # Only the tier changed: the row is an update of its own.
            item = Done(row, record, UPDATE, {})
            done.append(item)
        if item.action == UPDATE:
            item.before.update(
                tier=record.tier_id,
                tier_since=_stored(record.tier_since),
                tier_below_since=_stored(record.tier_below_since),
            )
        item.record.version = getattr(item.record, "version", 1) + 1
    done.sort(key=lambda item: item.row.number)
    return done


def _write(resource: Resource, rows: Sequence[Row], *, user: Any, together: bool) -> list[Done]:
    viewset = resource.viewset
    creates = [row for row in rows if row.action not in (UPDATE, UNCHANGED)]
    updates = [row for row in rows if row.action == UPDATE]
    befores = {row.number: {name: _stored(getattr(row.record, name, None)) for name in row.data} for row in updates}
    done: list[Done] = []
    create_many = getattr(viewset, "create_many_service", None)
    update_many = getattr(viewset, "update_many_service", None)
    if creates and together and create_many is not None:
        records = _refused_as_row(creates, lambda: create_many(actor=user, rows=[row.data for row in creates]))
        done += [Done(row, record, CREATE, {}) for row, record in zip(creates, records, strict=True)]
    else:
        for row in creates:

            def create(row: Row = row) -> Any:
                return viewset.create_service(actor=user, data=row.data)

            done.append(Done(row, _refused_as_row([row], create), CREATE, {}))
    if updates and together and update_many is not None:
        changes = [(row.record, row.data, row.record.version) for row in updates]
        results = _refused_as_row(updates, lambda: update_many(actor=user, changes=changes))
        done += [
            Done(row, record, UPDATE, befores[row.number])
            for row, record in zip(updates, results, strict=True)
            if record is not None
        ]
    else:
        for row in updates:

            def update(row: Row = row) -> Any:
                return viewset.update_service(
                    actor=user, instance=row.record, data=row.data, expected_version=row.record.version
                )

            done.append(Done(row, _refused_as_row([row], update), UPDATE, befores[row.number]))
    done.sort(key=lambda item: item.row.number)
    return done


def _refused_as_row(rows: Sequence[Row], write: Callable[[], Any]) -> Any:
    """Run ``write`` for ``rows``; a refusal becomes :class:`RowRefused` at its row."""
    try:
        return write()
    except (DomainError, ValidationError) as error:
        index = getattr(error, "row_index", None)
        row = rows[index] if index is not None and index < len(rows) else rows[0]
        raise RowRefused(row.number, _message(error)) from error
    except IntegrityError as error:
        if len(rows) > 1:
            raise
        raise RowRefused(
            rows[0].number, _("A value of this row was taken by another record since the check.")
        ) from error


def _message(error: DomainError | ValidationError) -> str:
    if isinstance(error, DomainError):
        parts = [error.message] + [str(m) for messages in error.field_errors.values() for m in messages]
    elif hasattr(error, "message_dict"):
        parts = [f"{name}: {message}" for name, messages in error.message_dict.items() for message in messages]
    else:
        parts = [str(message) for message in error.messages]
    return " ".join(dict.fromkeys(parts))


def _stored(value: Any) -> Any:
    """A value as undoing an import gives it back: a linked record by its id."""
    if isinstance(value, Model):
        return value.pk
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def audit_summary(
    plan: Plan,
    *,
    user: Any,
    file_name: str,
    import_id: str,
    written: Counter[str],
    counts: Mapping[str, int] | None = None,
) -> None:
    """The one event that sums an import up (``counts``: the dry run's, summed over the
    file's windows; the plan's own by default)."""
    resource = get_resource(plan.kind.resource)
    assert resource is not None
    audit_bulk(
        resource=resource.model._meta.label_lower,
        actor=user,
        action=Action.BULK,
        summary={
            "label": f"import {plan.kind.code}",
            "file": file_name[:200],
            "import": import_id,
            "mode": plan.mode,
            "key": plan.key,
            "counts": dict(plan.counts if counts is None else counts),
            "written": dict(written),
        },
    )


def commit_plan(
    plan: Plan,
    *,
    user: Any,
    file_name: str,
    create_duplicates: bool = False,
    import_id: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    keep_created: bool = False,
) -> Written:
    """Create and update what ``plan`` says, as ``user``, in one transaction; returns what
    was written.  ``progress(done, total)`` is told after each chunk.

    Rows with problems are left out (the error report lists them), and so are suspected
    duplicates unless ``create_duplicates``; a row a service refuses (a change made since
    the dry run, say) undoes the whole import and is named in the error.
    """
    total = len(rows_to_write(plan, create_duplicates=create_duplicates))
    return commit_windows(
        [plan],
        user=user,
        file_name=file_name,
        create_duplicates=create_duplicates,
        import_id=import_id,
        progress=progress,
        total=total,
        keep_created=keep_created,
    )


def commit_windows(
    plans: Iterable[Plan],
    *,
    user: Any,
    file_name: str,
    create_duplicates: bool = False,
    import_id: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    total: int = 0,
    keep_created: bool = False,
) -> Written:
    """:func:`commit_plan` for the plans of one file's windows (``planning.plan_windows``,
    read as they are written, so a file of any size is written in the memory of a
    window), all in one transaction: the whole file lands, or nothing does.
    ``progress(done, total)`` is told after each chunk (``total``: the rows the dry run
    said would be written)."""
    written = Written(import_id=import_id or uuid.uuid4().hex, keep_created=keep_created)
    checked: Counter[str] = Counter()
    last: Plan | None = None
    with audit_context(source=Source.IMPORT, request_id=written.import_id), transaction.atomic():
        for plan in plans:
            last = plan
            checked.update(plan.counts)
            for chunk in chunks(rows_to_write(plan, create_duplicates=create_duplicates)):
                try:
                    written.add(write_rows(plan, chunk, user=user))
                except RowRefused as error:
                    raise DomainError(_("%(error)s Nothing was imported.") % {"error": error.message}) from error
                if progress is not None:
                    progress(written.rows, max(total, written.rows))
        if last is not None:
            audit_summary(
                last,
                user=user,
                file_name=file_name,
                import_id=written.import_id,
                written=written.counts,
                counts=checked,
            )
    return written


class CreatedCustomers:
    """The customers a workbook's customers sheet created, by each way another sheet may
    name them (code, tax id, exact name): a row of a later sheet that names one is linked
    to it before it is written."""

    def __init__(self) -> None:
        self.by_reference: dict[tuple[str, str], Any] = {}

    def remember(self, row: Row, record: Any) -> None:
        for reference in row.customer_references(record):
            self.by_reference.setdefault(reference, record)

    def link(self, rows: Sequence[Row]) -> None:
        """Give each row that names a created customer that customer; raises
        :class:`RowRefused` at a row whose customer was not created."""
        for row in rows:
            if row.customer_ref is not None:
                customer = self.by_reference.get(row.customer_ref)
                if customer is None:
                    raise RowRefused(row.number, _("Its customer was not created."))
                row.data["customer"] = customer


def commit_workbook(plans: list[Plan], *, user: Any, file_name: str, create_duplicates: bool = False) -> list[Written]:
    """Import every sheet of a workbook in one transaction, customers first: a row of
    another sheet that names a customer the workbook creates is linked to it once it
    exists."""
    import_id = uuid.uuid4().hex
    results: list[Written] = []
    created = CreatedCustomers()
    with transaction.atomic():
        for plan in plans:
            try:
                created.link(rows_to_write(plan, create_duplicates=create_duplicates))
            except RowRefused as error:
                raise DomainError(_("%(error)s Nothing was imported.") % {"error": error.message}) from error
            written = commit_plan(
                plan,
                user=user,
                file_name=file_name,
                create_duplicates=create_duplicates,
                import_id=import_id,
                keep_created=plan.kind.code == "customers",
            )
            if plan.kind.code == "customers":
                rows = {row.number: row for row in plan.rows}
                for number, record in written.created.items():
                    created.remember(rows[number], record)
            results.append(written)
    return results
