"""Imports as jobs: check a file (the dry run), check it again with the user's choices,
import it on a worker, undo it.

- **Check**: the file is kept with the job, read and planned (``planning``); the counts,
  the problems and the error report are stored.  Nothing of the book changes.
- **Import**: the page marks the job importing and queues it; the worker plans the file
  again (the book may have changed since the dry run) and writes it chunk by chunk,
  each chunk in one transaction with the job's progress, so a worker that dies leaves
  the job to go on from its last chunk when the task comes back (it acknowledges
  late), and two runs never import a row twice (the job's row is locked, must still be
  importing, and names the last row written).  The user may cancel it between chunks
  and resume a cancelled or failed import.
- **Undo** (within ``CRM_IMPORT_UNDO_DAYS``): the records the import created are removed
  and those it updated get their values back, each only if it is at the version the
  import left it at; a record changed since is kept and named.  The change requests the
  import made for review and still pending are withdrawn.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import itertools
import shutil
import tempfile
import uuid
from collections import Counter
from collections.abc import Generator, Iterable, Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.access.changes import change_withdraw_many
from crm.access.registry import CREATE, UPDATE, get_resource, may
from crm.audit.choices import Action, Source
from crm.audit.context import audit_context
from crm.audit.services import audit_bulk
from crm.core.errors import DomainError, NotPermitted, VersionConflict
from crm.core.spreadsheets.headers import normalise
from crm.core.spreadsheets.reading import max_bytes
from tiers.services import tier_import_undo

from .choices import ImportState
from .committing import (
    DUPLICATE_CHOICES,
    SKIP,
    CreatedCustomers,
    RowRefused,
    apply_duplicate_choices,
    audit_summary,
    chunks,
    rows_to_write,
    write_rows,
    written_counts,
)
from .kinds import ARCHIVE, KINDS, position
from .models import ImportedRecord, ImportJob, SavedMapping
from .planning import plan_import_windows, plan_workbook
from .report import ErrorReport, column_letter
from .rows import CREATE as CREATE_ROW
from .rows import DUPLICATE as SUSPECTED
from .rows import ERROR, PROPOSED, UNCHANGED, Plan, Problem, Row


def headers_key(headers: list[str]) -> str:
    """A digest of a file's headers as they are matched (normalised), naming its mapping."""
    text = "\x1f".join(normalise(header) for header in headers)
    return hashlib.sha256(text.encode()).hexdigest()


def saved_mapping(kind: str, headers: list[str]) -> SavedMapping | None:
    return SavedMapping.objects.filter(kind=kind, headers_key=headers_key(headers)).first()


@transaction.atomic
def mapping_save(
    *, actor: Any, kind: str, headers: list[str], mapping: Mapping[str, Any], name: str = ""
) -> SavedMapping:
    """Keep how these headers map, for the next file with the same headers (and under
    ``name``, if given, for choosing it by name); one mapping per set of headers."""
    name = name.strip()[:80]
    if name:
        SavedMapping.objects.filter(kind=kind, name=name).exclude(headers_key=headers_key(headers)).update(name="")
    saved, _created = SavedMapping.objects.update_or_create(
        kind=kind,
        headers_key=headers_key(headers),
        defaults={"mapping": dict(mapping), "saved_by": actor, **({"name": name} if name else {})},
    )
    audit_bulk(
        resource="imports.savedmapping",
        actor=actor,
        summary={"label": f"mapping saved {kind}", "name": saved.name, "mapping": dict(mapping)},
    )
    return saved


def undo_days() -> int:
    return int(getattr(settings, "CRM_IMPORT_UNDO_DAYS", 7))


def check_may_import(actor: Any, kind: str, mode: str) -> None:
    """Importing writes records of the kind: the role must be allowed to create them
    (and to update them, unless only creating).  A workbook of several sheets is a
    customer archive: it needs customers, and each other sheet its own kind (a sheet the
    role may not import has every row refused, see :func:`windows_of`)."""
    if kind == ARCHIVE:
        kind = "customers"
    if kind not in KINDS:
        raise DomainError(_("Unknown kind of import: %(kind)s.") % {"kind": kind[:40]})
    resource = KINDS[kind].resource
    acts = {"create": [CREATE], "update": [UPDATE]}.get(mode, [CREATE, UPDATE])
    if not all(may(actor, act, resource) for act in acts):
        raise NotPermitted(_("Your role may not import these records."))


#: The first bytes of a gzip stream: how a kept file packed by :func:`_pack` is told
#: from one kept as it came (none of the formats read begins so).
_GZIP = b"\x1f\x8b"


def _pack(content: bytes) -> bytes:
    """A file as a job keeps it: compressed (a CSV of a million orders, some 80 MB, is
    kept in about a sixth of that, and sent to the database and back as such)."""
    return gzip.compress(content, compresslevel=1, mtime=0)


def _unpack(job: ImportJob, path: Path) -> None:
    """Write the kept file of ``job`` to ``path``, uncompressed a piece at a time."""
    content = job.content
    with path.open("wb") as target:
        if bytes(content[:2]) != _GZIP:
            target.write(content)
            return
        with gzip.GzipFile(fileobj=io.BytesIO(content)) as packed:
            shutil.copyfileobj(packed, target, 1024 * 1024)


def _workbook_plans(job: ImportJob, actor: Any) -> list[Plan]:
    """The plans of a kept workbook imported as a whole, read again: one per sheet,
    customers first."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / ("upload" + Path(job.file_name).suffix.lower())
        _unpack(job, path)
        plans = plan_workbook(path, user=actor, filename=job.file_name, mode=job.mode)
    for plan in plans:
        try:
            check_may_import(actor, plan.kind.code, job.mode)
        except DomainError as error:
            for row in plan.rows:
                row.problems.append(Problem(row.number, None, error.message))
                row.action = ERROR
    return plans


def windows_of(job: ImportJob, actor: Any) -> Generator[tuple[int, Plan], None, None]:
    """The plans of the kept file, read again as it goes, each with the number of its
    sheet: a file of one kind a window of rows at a time (``planning.plan_windows``:
    bounded memory whatever its size), a workbook's sheets one after the other."""
    if job.kind == ARCHIVE:
        yield from enumerate(_workbook_plans(job, actor))
        return
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / ("upload" + Path(job.file_name).suffix.lower())
        _unpack(job, path)
        windows = plan_import_windows(
            path,
            user=actor,
            kind=job.kind,
            filename=job.file_name,
            mode=job.mode,
            key=job.key or None,
            mapping=job.mapping or None,
            encoding=job.encoding or None,
            delimiter=job.delimiter or None,
        )
        for plan in windows:
            yield 0, plan


#: How many problems a job keeps in words (the error report has them all), and how many
#: of its first rows it keeps to show.
KEPT_PROBLEMS = 200
PREVIEW_ROWS = 10


#: What a suspected duplicate shows of the incoming row and of the customer it looks like.
DUPLICATE_FIELDS = ("name", "code", "tax_id", "phone", "city")
#: How many suspected duplicates a job lists to choose from (the others are skipped, or
#: all created with ``create_duplicates``).
KEPT_DUPLICATES = 200


def _duplicates(plan: Plan, actor: Any, sheet: int) -> list[dict[str, Any]]:
    """The suspected duplicates of ``plan``, side by side with the customers they look
    like (read through the customers' serializer: the field policy masks what the user
    may not see), for the user to choose per row."""
    suspected = [row for row in plan.rows if row.action == SUSPECTED and row.suspected][:KEPT_DUPLICATES]
    if not suspected:
        return []
    resource = _resource("customers")
    ids = {row.duplicate_of for row in suspected if row.duplicate_of}
    # The list's own selector: the record scope, and the owner, team, tier and contacts
    # the serializer shows, read together.
    found = resource.viewset.selector(user=actor).filter(pk__in=ids) if ids else []
    request = SimpleNamespace(user=actor, method="GET", query_params={}, data={})
    shown = resource.viewset.serializer_class(found, many=True, context={"request": request}).data if ids else []
    existing = {item["id"]: {name: item.get(name) for name in ("id", *DUPLICATE_FIELDS)} for item in shown}
    return [
        {
            "position": position(sheet, row.number),
            "row": row.number,
            "values": {name: _shown(row.data.get(name) or row.evidence.get(name)) for name in DUPLICATE_FIELDS},
            "reasons": [str(problem.message) for problem in row.problems],
            "existing": existing.get(row.duplicate_of) if row.duplicate_of else None,
        }
        for row in suspected
    ]


def _shown(value: Any) -> str:
    if isinstance(value, tuple):
        value = value[0]
    return "" if value is None else str(value)


def checked_duplicate_choices(choices: Any) -> dict[str, str]:
    """The user's choices for suspected duplicates, as the job keeps them: by place in
    the file, one of skip, create and update; anything else is refused in words."""
    if not isinstance(choices, Mapping):
        raise DomainError(_("Choices for suspected duplicates are given by row."))
    kept: dict[str, str] = {}
    for place, choice in choices.items():
        if not str(place).isdigit() or len(str(place)) > 12 or choice not in DUPLICATE_CHOICES:
            raise DomainError(
                _("For each suspected duplicate, choose one of: %(choices)s.")
                % {"choices": ", ".join(DUPLICATE_CHOICES)}
            )
        kept[str(int(str(place)))] = str(choice)
    return kept


def _details(plan: Plan, actor: Any = None, sheet: int = 0) -> dict[str, Any]:
    """What a dry run found in one table (or its first window), kept for the page and
    the API."""
    return {
        "duplicates": _duplicates(plan, actor, sheet) if actor is not None else [],
        "columns": [
            {
                "column": column_letter(m.column),
                "header": m.header,
                "field": m.field,
                "how": m.how,
                # The column's values are proposed for review, not written.
                "review": m.field in plan.proposable,
            }
            for m in plan.matches
        ],
        "refused": [{"column": column_letter(c), "header": h, "reason": str(r)} for c, h, r in plan.refused],
        "problems": _problems(plan, KEPT_PROBLEMS),
        "headers": list(plan.table.headers),
        "preview": [
            [number, ["" if value is None else str(value) for value in values]]
            for number, values in plan.table.head[:PREVIEW_ROWS]
        ],
    }


def _problems(plan: Plan, most: int) -> list[dict[str, Any]]:
    return [
        {"row": p.row, "column": column_letter(p.column) if p.column is not None else None, "message": str(p.message)}
        for p in plan.problems[: max(0, most)]
    ]


def _store_plans(job: ImportJob, windows: Iterable[tuple[int, Plan]], actor: Any) -> Plan:
    """Keep what the dry run found, summed up over the file's windows or sheets: a file
    of one kind in ``details`` (its first problems and suspected duplicates, however
    many windows it took), a workbook's sheets one by one (``details["sheets"]``, each
    with its kind, name and counts); and the error report, written as it goes.  Returns
    the first plan (of a file's first window, or a workbook's first sheet)."""
    counts: Counter[str] = Counter()
    rows = problems = 0
    first: Plan | None = None
    sheets: list[dict[str, Any]] = []
    details: dict[str, Any] = {}
    with tempfile.TemporaryFile() as target:
        report = ErrorReport(target)
        for sheet, plan in windows:
            counts.update(plan.counts)
            rows += len(plan.rows)
            problems += len(plan.problems)
            report.add(plan)
            if job.kind == ARCHIVE:
                sheets.append(
                    {"sheet": plan.table.name, "kind": plan.kind.code, "counts": dict(plan.counts)}
                    | _details(plan, actor, sheet)
                )
            elif first is None:
                details = _details(plan, actor)
            else:
                details["problems"] += _problems(plan, KEPT_PROBLEMS - len(details["problems"]))
                if len(details["duplicates"]) < KEPT_DUPLICATES:
                    details["duplicates"] += _duplicates(plan, actor, sheet)[
                        : KEPT_DUPLICATES - len(details["duplicates"])
                    ]
            first = first or plan
        report.close()
        target.seek(0)
        job.error_report = target.read() if problems else None
    assert first is not None
    job.details = {"sheets": sheets} if job.kind == ARCHIVE else details
    if job.kind != ARCHIVE:
        job.key = first.key
        job.encoding = first.encoding or ""
        job.delimiter = first.delimiter or ""
    job.counts = dict(counts)
    job.rows = rows
    job.problems = problems
    return first


@transaction.atomic
def import_check(
    *,
    actor: Any,
    file_name: str,
    content: bytes,
    kind: str,
    mode: str = "upsert",
    key: str = "",
    encoding: str = "",
    delimiter: str = "",
) -> tuple[ImportJob, Plan]:
    """Keep the file and run its dry run; returns the job and the first plan (of a
    file's first window or a workbook's first sheet: the job's details sum them all)."""
    check_may_import(actor, kind, mode)
    if len(content) > max_bytes():
        raise DomainError(_("The file is larger than %(most)d MB.") % {"most": max_bytes() // (1024 * 1024)})
    job = ImportJob(
        created_by=actor,
        kind=kind,
        mode=mode,
        key=key,
        file_name=Path(file_name).name[:200] or "upload",
        content=_pack(content),
        encoding=encoding,
        delimiter=delimiter,
        request_id=uuid.uuid4().hex,
    )
    windows = windows_of(job, actor)
    first = next(windows)
    saved = saved_mapping(kind, first[1].table.headers) if kind != ARCHIVE else None
    if saved is not None:
        # The same headers came before: they are mapped as the user chose then.
        windows.close()
        job.mapping = saved.mapping
        plan = _store_plans(job, windows_of(job, actor), actor)
    else:
        plan = _store_plans(job, itertools.chain([first], windows), actor)
    job.save()
    audit_bulk(
        resource="imports.importjob",
        actor=actor,
        action=Action.BULK,
        summary={
            "label": f"import check {kind}",
            "import": job.request_id,
            "file": job.file_name,
            "counts": job.counts,
        },
    )
    return job, plan


@transaction.atomic
def import_recheck(
    *, actor: Any, job: ImportJob, choices: Mapping[str, Any], expected_version: int | None
) -> tuple[ImportJob, Plan]:
    """Check the kept file again with the user's choices (mapping, mode, key, encoding,
    delimiter, whether to create suspected duplicates)."""
    job = _locked(job, expected_version)
    if job.state != ImportState.CHECKED:
        raise DomainError(_("This import has run already."))
    for name in ("mapping", "mode", "key", "encoding", "delimiter", "create_duplicates"):
        if name in choices:
            setattr(job, name, choices[name])
    if "duplicate_choices" in choices:
        job.duplicate_choices = checked_duplicate_choices(choices["duplicate_choices"])
    check_may_import(actor, job.kind, job.mode)
    plan = _store_plans(job, windows_of(job, actor), actor)
    if "mapping" in choices and job.kind != ARCHIVE:
        mapping_save(
            actor=actor,
            kind=job.kind,
            headers=plan.table.headers,
            mapping=choices["mapping"],
            name=choices.get("mapping_name", ""),
        )
    job.version += 1
    job.save()
    return job, plan


@transaction.atomic
def import_start(
    *, actor: Any, job: ImportJob, expected_version: int | None, duplicate_choices: Any = None
) -> ImportJob:
    """Mark the job importing (the worker takes it from there); a job that failed or was
    cancelled goes on after the last row it wrote.  ``duplicate_choices`` (before the
    first run only) says per suspected duplicate whether to skip it, create it or update
    the customer it looks like."""
    job = _locked(job, expected_version)
    if job.state not in (ImportState.CHECKED, ImportState.FAILED, ImportState.CANCELLED):
        raise DomainError(_("This import has run already."))
    check_may_import(actor, job.kind, job.mode)
    if duplicate_choices is not None:
        if job.state != ImportState.CHECKED:
            raise DomainError(_("The choices for suspected duplicates are made before the import runs."))
        job.duplicate_choices = checked_duplicate_choices(duplicate_choices)
    job.state = ImportState.IMPORTING
    job.cancel_requested = False
    job.message = ""
    job.version += 1
    job.save(update_fields=["state", "cancel_requested", "message", "version", "duplicate_choices"])
    return job


@transaction.atomic
def import_cancel(*, actor: Any, job: ImportJob, expected_version: int | None) -> ImportJob:
    """Ask a running import to stop after the chunk it is writing; what it wrote stays
    (and can be undone), and it can be resumed."""
    job = _locked(job, expected_version)
    if job.state != ImportState.IMPORTING:
        raise DomainError(_("Only a running import can be cancelled."))
    check_may_import(actor, job.kind, job.mode)
    job.cancel_requested = True
    job.version += 1
    job.save(update_fields=["cancel_requested", "version"])
    return job


def import_run(*, job_id: int) -> ImportJob | None:
    """Import a job marked importing, as the user who started it, a chunk at a time; safe
    to run again at any moment.

    Each chunk is written in one transaction with the job's progress (where the last row
    written stands: :func:`kinds.position`), so a worker that dies mid-chunk leaves that
    chunk unwritten and the next delivery of the task goes on from the last chunk that
    landed.  A workbook's sheets are written one after the other, customers first; a row
    of a later sheet that names a customer the workbook creates is linked to it once it
    exists (after a restart, the customer is found in the book).  A row the services
    refuse stops the import as failed, naming the row; the chunks before it stay
    written, and the user can resume it or undo it.
    """
    job = ImportJob.objects.select_related("created_by").filter(pk=job_id).first()
    if job is None or job.state != ImportState.IMPORTING:
        return job
    actor = job.created_by
    try:
        check_may_import(actor, job.kind, job.mode)
        windows = windows_of(job, actor)
        first = next(windows)
    except DomainError as error:
        return _finish(job.pk, state=ImportState.FAILED, message=error.message)
    if job.last_row == 0 and job.done_rows == 0:
        ImportJob.objects.filter(pk=job.pk, done_rows=0).update(to_write=_expected_rows(job))
    created = CreatedCustomers()
    errors = 0
    summaries: dict[str, tuple[Plan, Counter[str]]] = {}
    for sheet, plan in itertools.chain([first], windows):
        apply_duplicate_choices(
            plan, job.duplicate_choices, user=actor, sheet=sheet, create_duplicates=job.create_duplicates
        )
        errors += plan.counts.get(ERROR, 0)
        summary = summaries.setdefault(f"{sheet}:{plan.kind.code}", (plan, Counter()))
        summary[1].update(plan.counts)
        rows = [row for row in rows_to_write(plan) if position(sheet, row.number) > job.last_row]
        for chunk in chunks(rows):
            stopped = _write_chunk(job.pk, actor, sheet, plan, chunk, created)
            if stopped is not None:
                return stopped
    newly = errors - int(job.counts.get(ERROR, 0))
    with transaction.atomic():
        fresh = ImportJob.objects.select_for_update().get(pk=job.pk)
        if fresh.state != ImportState.IMPORTING:
            return fresh
        by_kind = fresh.counts.get("written_by_kind", {})
        with audit_context(source=Source.IMPORT, request_id=fresh.request_id):
            for plan, counts in summaries.values():
                audit_summary(
                    plan,
                    user=actor,
                    file_name=fresh.file_name,
                    import_id=fresh.request_id,
                    written=Counter(by_kind.get(plan.kind.code, fresh.counts.get("written", {}))),
                    counts=counts,
                )
        if newly > 0:
            fresh.message = _(
                "%(n)d rows can no longer be imported since the check (the book changed); they are left out and the "
                "error report names them."
            ) % {"n": newly}  # fmt: skip
            fresh.error_report = _fresh_report(fresh, actor)
        fresh.state = ImportState.DONE
        fresh.to_write = fresh.done_rows
        fresh.finished_at = timezone.now()
        fresh.version += 1
        fresh.save()
        return fresh


def _expected_rows(job: ImportJob) -> int:
    """How many rows the import is expected to write, from its dry run and the choices
    made for suspected duplicates (the book may have changed since: the progress is
    corrected when it ends)."""
    counts = job.counts
    chosen = sum(1 for choice in job.duplicate_choices.values() if choice != SKIP)
    suspected = int(counts.get("duplicate", 0)) if job.create_duplicates else chosen
    return int(counts.get("create", 0)) + int(counts.get("update", 0)) + suspected


def _fresh_report(job: ImportJob, actor: Any) -> bytes:
    """The error report of the file as the book stands now (read again)."""
    with tempfile.TemporaryFile() as target:
        report = ErrorReport(target)
        for _sheet, plan in windows_of(job, actor):
            report.add(plan)
        report.close()
        target.seek(0)
        return target.read()


def _write_chunk(
    job_id: int, actor: Any, sheet: int, plan: Plan, chunk: list[Row], created: CreatedCustomers
) -> ImportJob | None:
    """Write one chunk with the job's progress, in one transaction; returns the job if
    the import stopped (cancelled, failed, or no longer importing)."""
    with transaction.atomic():
        fresh = ImportJob.objects.select_for_update().get(pk=job_id)
        if fresh.state != ImportState.IMPORTING:
            return fresh
        if fresh.cancel_requested:
            fresh.state = ImportState.CANCELLED
            fresh.finished_at = timezone.now()
            fresh.cancel_requested = False
            fresh.version += 1
            fresh.save()
            return fresh
        chunk = [row for row in chunk if position(sheet, row.number) > fresh.last_row]
        if not chunk:
            return None  # written by an earlier delivery of the task
        try:
            created.link(chunk)
            with audit_context(source=Source.IMPORT, request_id=fresh.request_id), transaction.atomic():
                done = write_rows(plan, chunk, user=actor)
        except RowRefused as error:
            if len(fresh.details.get("sheets", [])) > 1:
                error = RowRefused(error.row, f"{plan.table.name}: {error.message}")
            message = _("%(error)s The rows before it were imported: resume the import, or undo it.") % {
                "error": error.message}  # fmt: skip
            fresh.state = ImportState.FAILED
            fresh.message = message
            fresh.finished_at = timezone.now()
            fresh.version += 1
            fresh.save()
            return fresh
        kind = plan.kind.code if fresh.kind == ARCHIVE else ""
        entries = [
            ImportedRecord(
                job=fresh,
                kind=kind,
                record_id=item.record.pk,
                action=item.action,
                version=getattr(item.record, "version", 1),
                before=item.before,
            )
            for item in done
            if item.action != UNCHANGED
        ]
        # The change requests the import made, for undoing it to withdraw them.
        entries += [
            ImportedRecord(job=fresh, kind=PROPOSALS, record_id=item.proposal.pk, action=PROPOSED, version=1)
            for item in done
            if item.proposal is not None
        ]
        ImportedRecord.objects.bulk_create(
            entries,
            update_conflicts=True,
            unique_fields=["job", "kind", "record_id"],
            update_fields=["version"],
        )
        chunk_counts = written_counts(done)
        written = Counter(fresh.counts.get("written", {}))
        written.update(chunk_counts)
        by_kind = dict(fresh.counts.get("written_by_kind", {}))
        of_kind: Counter[str] = Counter(by_kind.get(plan.kind.code, {}))
        of_kind.update(chunk_counts)
        by_kind[plan.kind.code] = dict(of_kind)
        fresh.counts = {**fresh.counts, "written": dict(written), "written_by_kind": by_kind}
        fresh.done_rows += len(chunk)
        fresh.last_row = position(sheet, chunk[-1].number)
        fresh.save(update_fields=["counts", "done_rows", "last_row"])
        if plan.kind.code == "customers":
            for item in done:
                if item.action == CREATE_ROW:
                    created.remember(item.row, item.record)
    return None


def _finish(job_id: int, *, state: str, message: str) -> ImportJob:
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job_id)
        if job.state == ImportState.IMPORTING:
            job.state = state
            job.message = message
            job.finished_at = timezone.now()
            job.version += 1
            job.save()
        return job


#: The states of an import whose records can be undone.
UNDOABLE = (ImportState.DONE, ImportState.FAILED, ImportState.CANCELLED)


#: The kind of an import's entries that name the change requests it made
#: (``ImportedRecord.kind``), not records it wrote.
PROPOSALS = "change-requests"


@transaction.atomic
def import_undo(*, actor: Any, job: ImportJob, expected_version: int | None) -> tuple[int, list[str]]:
    """Undo an import; returns how many records were put back and what was kept.  The
    change requests the import made and that still wait are withdrawn (those decided
    since stay decided: an approved value is the manager's, not the import's)."""
    job = _locked(job, expected_version)
    entries = list(job.records.order_by("-id"))
    proposals = [entry.record_id for entry in entries if entry.kind == PROPOSALS]
    entries = [entry for entry in entries if entry.kind != PROPOSALS]
    if job.state not in UNDOABLE or (job.state != ImportState.DONE and not entries and not proposals):
        raise DomainError(_("Only an import that ran can be undone."))
    if job.finished_at and timezone.now() - job.finished_at > dt.timedelta(days=undo_days()):
        raise DomainError(_("An import can be undone for %(days)d days.") % {"days": undo_days()})
    records: dict[tuple[str, int], Any] = {}
    for kind in {entry.kind or job.kind for entry in entries}:
        model = _resource(kind).model
        ids = [entry.record_id for entry in entries if (entry.kind or job.kind) == kind]
        records.update({(kind, pk): record for pk, record in model._default_manager.in_bulk(ids).items()})
    undone = 0
    kept: list[str] = []
    with audit_context(source=Source.IMPORT, request_id=job.request_id):
        withdrawn = change_withdraw_many(actor=actor, ids=proposals, requested_by=job.created_by) if proposals else 0
        for entry in entries:
            kind = entry.kind or job.kind
            record = records.get((kind, entry.record_id))
            if record is None:
                continue
            model = _resource(kind).model
            viewset = _resource(kind).viewset
            try:
                with transaction.atomic():
                    if entry.action == "create":
                        viewset.delete_service(actor=actor, instance=record, expected_version=entry.version)
                    else:
                        before = dict(entry.before)
                        tiered = {name: before.pop(name) for name in _TIER_BEFORE if name in before}
                        data = _restored(model, before)
                        record = viewset.update_service(
                            actor=actor, instance=record, data=data, expected_version=entry.version
                        )
                        if tiered:
                            restored = _restored(model, tiered)
                            tier_import_undo(
                                actor=actor,
                                customer=record,
                                tier=restored["tier"],
                                since=restored.get("tier_since"),
                                below_since=restored.get("tier_below_since"),
                                source=job.file_name,
                            )
            except VersionConflict:
                kept.append(_("%(record)s was changed since the import; it is kept.") % {"record": record})
            except DomainError as error:
                kept.append(f"{record}: {error.message}")
            else:
                undone += 1
    if withdrawn:
        kept.append(_("%(n)d change requests of the import were withdrawn.") % {"n": withdrawn})
    job.state = ImportState.UNDONE
    job.message = "\n".join(kept)
    job.version += 1
    job.save()
    audit_bulk(
        resource="imports.importjob",
        actor=actor,
        summary={
            "label": f"import undone {job.kind}",
            "import": job.request_id,
            "undone": undone,
            "kept": len(kept),
            "withdrawn": withdrawn,
        },
    )
    return undone, kept


def _resource(kind: str) -> Any:
    resource = get_resource(KINDS[kind].resource)
    assert resource is not None
    return resource


#: What an import that set a customer's tier keeps to give it back (``tiers_import``).
_TIER_BEFORE = ("tier", "tier_since", "tier_below_since")


def _restored(model: Any, before: Mapping[str, Any]) -> dict[str, Any]:
    """The values an update changed, as its service takes them (linked records back as
    records)."""
    data: dict[str, Any] = {}
    for name, value in before.items():
        field = model._meta.get_field(name)
        if field.is_relation and value is not None:
            data[name] = field.related_model._default_manager.filter(pk=value).first()
        elif field.get_internal_type() in ("DateField", "DateTimeField", "DecimalField") and value is not None:
            data[name] = field.to_python(value)
        else:
            data[name] = value
    return data


def _locked(job: ImportJob, expected_version: int | None) -> ImportJob:
    fresh = ImportJob.objects.select_for_update().get(pk=job.pk)
    if expected_version is not None and fresh.version != expected_version:
        raise VersionConflict()
    return fresh
