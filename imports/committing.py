"""Writing what a dry run planned: every row it creates or updates, through the
resource's own services (so validation, the record scope, optimistic locking and one
audit event per record, with its values before and after), in one transaction: the
import lands whole or not at all.  Every event names the import as its source, under
one request id, and one more event sums the import up."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Model
from django.utils.translation import gettext as _

from crm.access.registry import get_resource
from crm.audit.choices import Action, Source
from crm.audit.context import audit_context
from crm.audit.services import audit_bulk
from crm.core.errors import DomainError

from .rows import CREATE, DUPLICATE, UPDATE, Plan


@dataclass
class Written:
    """What an import wrote: the counts, and each record with the version it left it at
    and, for an update, the values it had before (what undoing it restores)."""

    counts: Counter[str] = field(default_factory=Counter)
    records: list[list[Any]] = field(default_factory=list)
    import_id: str = ""
    #: The record each row created, by the row's number.
    created: dict[int, Any] = field(default_factory=dict)


def commit_plan(
    plan: Plan, *, user: Any, file_name: str, create_duplicates: bool = False, import_id: str | None = None
) -> Written:
    """Create and update what ``plan`` says, as ``user``; returns what was written.

    Rows with problems are left out (the error report lists them), and so are suspected
    duplicates unless ``create_duplicates``; a row a service refuses (a change made since
    the dry run, say) undoes the whole import and is named in the error.
    """
    resource = get_resource(plan.kind.resource)
    assert resource is not None
    create = resource.viewset.create_service
    update = resource.viewset.update_service
    written = Written(import_id=import_id or uuid.uuid4().hex)
    with audit_context(source=Source.IMPORT, request_id=written.import_id), transaction.atomic():
        for row in plan.rows:
            try:
                if row.action == CREATE or (row.action == DUPLICATE and row.suspected and create_duplicates):
                    record = create(actor=user, data=row.data)
                    written.records.append([record.pk, CREATE, record.version, {}])
                    written.created[row.number] = record
                elif row.action == UPDATE:
                    before = {name: _stored(getattr(row.record, name, None)) for name in row.data}
                    record = update(actor=user, instance=row.record, data=row.data, expected_version=row.record.version)
                    written.records.append([record.pk, UPDATE, record.version, before])
                else:
                    continue
            except DomainError as error:
                raise DomainError(
                    _("Row %(row)d: %(message)s Nothing was imported.") % {"row": row.number, "message": error.message}
                ) from error
            written.counts[CREATE if row.action == DUPLICATE else row.action] += 1
        audit_bulk(
            resource=resource.model._meta.label_lower,
            actor=user,
            action=Action.BULK,
            summary={
                "label": f"import {plan.kind.code}",
                "file": file_name[:200],
                "import": written.import_id,
                "mode": plan.mode,
                "key": plan.key,
                "counts": dict(plan.counts),
                "written": dict(written.counts),
            },
        )
    return written


def _stored(value: Any) -> Any:
    """A value as undoing an import gives it back: a linked record by its id."""
    if isinstance(value, Model):
        return value.pk
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def commit_workbook(plans: list[Plan], *, user: Any, file_name: str, create_duplicates: bool = False) -> list[Written]:
    """Import every sheet of a workbook in one transaction, customers first: a row of
    another sheet that names a customer the workbook creates is linked to it once it
    exists."""
    import_id = uuid.uuid4().hex
    results: list[Written] = []
    created: dict[tuple[str, str], Any] = {}
    with transaction.atomic():
        for plan in plans:
            for row in plan.rows:
                if row.customer_ref is not None and row.action in (CREATE, UPDATE):
                    customer = created.get(row.customer_ref)
                    if customer is None:
                        raise DomainError(_("Row %(row)d: its customer was not created. Nothing was imported.") % {
                            "row": row.number})  # fmt: skip
                    row.data["customer"] = customer
            written = commit_plan(
                plan, user=user, file_name=file_name, create_duplicates=create_duplicates, import_id=import_id
            )
            if plan.kind.code == "customers":
                rows = {row.number: row for row in plan.rows}
                for number, record in written.created.items():
                    for reference in rows[number].customer_references(record):
                        created.setdefault(reference, record)
            results.append(written)
    return results
