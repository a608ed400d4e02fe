"""The dry run of an import: what each row of a file would do, and what is wrong with it.

A file is read (``crm.core.spreadsheets.reading``), its headers matched to the fields of
the kind of record it holds (``headers``; a field the importing user may not write is
matched and refused, with the reason), and every row is turned into what the API would
receive: each cell read as people type it (``values``: ``¥10,000``, ``1.2万``,
``2023年3月1日``, ``+86 138-0013-8000``, a choice by its label in either language, a
place like ``浙江省杭州市``), then checked by the resource's own serializer, so the same
validation, record scope and field policy as every other channel.  A row whose key (the
customer code, a tax id, an e-mail …) names a record the user may see updates it, or is
unchanged; a row that names its customer by code, tax id or exact name is linked to it.

A column the user may only propose (the ``propose`` level of the field policy) is not
refused: its values that differ from the record's are the row's proposal
(``Row.proposed``), checked as the API checks one, and the import makes one change
request per record of them (a new record is created without them, and the request
proposes them); the plan counts them (``PROPOSED``: the changes that will wait for
approval).

Nothing is written: the plan says, per row, create, update, unchanged, duplicate or
error, with every problem at its row and column in words.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.db.models import Field, Model, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from rest_framework import relations, serializers, validators

from crm.access.changes import proposable_fields, proposed_changes
from crm.access.registry import Resource, get_resource, may
from crm.access.scope import customers_visible_to, held_beyond_scope, scoped_queryset
from crm.accounts.models import Team, User
from crm.core.errors import DomainError
from crm.core.localized import language_key
from crm.core.spreadsheets.headers import Match, Target, knows, match_headers, normalise, targets_for
from crm.core.spreadsheets.reading import Table, max_rows, read_file
from crm.core.spreadsheets.values import (
    Parsed,
    choice_value,
    date_order,
    parse_bool,
    parse_choice,
    parse_date,
    parse_money,
    parse_number,
    parse_phone,
    parse_place,
    parse_text,
)
from crm.core.validation import field_problems
from tiers.models import Tier

from .duplicates import suspect_duplicates
from .kinds import CUSTOMER_EXTRAS, CUSTOMER_LINKS, EXTRA_LABELS, KINDS, MODES, ImportKind
from .rows import CREATE, DUPLICATE, ERROR, UNCHANGED, UPDATE, Plan, Problem, Row

_PHONE_FIELDS = {"phone", "mobile"}
_SPLIT = re.compile(r"[,，;；、|/]+")


class _Context:
    """What checking a row needs to ask the book, asked once per import."""

    def __init__(self, user: Any, resource: Resource) -> None:
        self.user = user
        self.resource = resource
        self.request = SimpleNamespace(user=user, method="POST", query_params={}, data={})
        self.customers_by: dict[tuple[str, str], list[int]] = {}
        self.new_customers: dict[tuple[str, str], Row] = {}
        #: The records the file's keys name, by key value, and the values taken beyond
        #: the user's reach (:func:`_existing`).
        self.existing: dict[str, list[Any]] = {}
        self.taken: set[str] = set()
        #: What a person, team or product named in a cell is, by model and text.
        self.related: dict[tuple[str, str], Parsed[Any]] = {}
        self._serializers: dict[bool, Any] = {}
        #: The records a related field of the serializer took, by field and value, for
        #: every row of the import (:func:`_remembered`, :meth:`find_linked`).
        self.linked: dict[str, dict[tuple[str, str], Any]] = {}
        #: The fields whose values no two records share, with the message a taken value
        #: gets, and the records holding the values of the window's rows.
        self.unique: dict[str, str] = {}
        self.unique_holders: dict[str, dict[str, set[int]]] = {}
        self._tiers: dict[str, Tier] | None = None
        #: The fields the user may only propose: a row's values of them become a change
        #: request for review (``crm.access.changes``) instead of being written.
        self.proposable: set[str] = set()

    def tier(self, text: str) -> Parsed[Tier]:
        """The tier a cell names: by its name in either language or its code, with the
        words tables add (黄金级, 钻石客户, 金卡会员 …), or by stars (★★★, 3星, 三星级: the
        tier of that rank)."""
        if self._tiers is None:
            self._tiers = {}
            for tier in Tier.objects.order_by("rank"):
                for name in (tier.code, tier.name_en, tier.name_zh, str(tier.rank)):
                    if name:  # a name left empty in one language names no tier
                        self._tiers.setdefault(_tier_key(name), tier)
        found = self._tiers.get(_tier_key(text))
        if found is None:
            comma = "、" if language_key() == "zh" else ", "
            names = comma.join(dict.fromkeys(tier.display_name for tier in self._tiers.values()))
            return Parsed(error=_("No tier is called %(value)s; the tiers are %(names)s.") % {
                "value": text[:40], "names": names})  # fmt: skip
        return Parsed(found)

    def serializer(self, record: Any, payload: dict[str, Any], *, linked_later: bool = False) -> Any:
        """The resource's serializer checking ``payload`` (against ``record``, if the row
        updates one; ``linked_later``: its customer is one the workbook creates).  One
        serializer is made per import and used for every row: building its fields is most
        of what a new one costs."""
        partial = record is not None
        serializer = self._serializers.get(partial)
        if serializer is None:
            serializer = self.resource.viewset.serializer_class(
                instance=record, data=payload, partial=partial, context={"request": self.request}
            )
            for name, field in serializer.fields.items():
                if isinstance(field, relations.RelatedField):
                    field.to_internal_value = _remembered(  # type: ignore[method-assign]
                        field.to_internal_value, self.linked.setdefault(name, {})
                    )
                unique = [v for v in field.validators if isinstance(v, validators.UniqueValidator)]
                if unique:
                    # Asked once per window for every row (:meth:`find_unique_holders`),
                    # not one query a row.
                    field.validators = [v for v in field.validators if v not in unique]
                    self.unique[name] = str(unique[0].message)
                elif not field.read_only and name not in self.unique:
                    message = _unique_message(self.resource.model, field.source)
                    if message:
                        self.unique[name] = message
            self._serializers[partial] = serializer
        if "customer" in serializer.fields and not partial:
            serializer.fields["customer"].required = not linked_later
        serializer.instance = record
        serializer.initial_data = payload
        for cached in ("_validated_data", "_errors", "_data", "proposed"):
            serializer.__dict__.pop(cached, None)
        return serializer

    def find_unique_holders(self, payloads: list[dict[str, Any] | None]) -> None:
        """Which records hold the window's values of the unique fields (every record, as
        the serializer's own check asks: a value is taken even beyond the user's reach),
        one statement a field for the window."""
        self.serializer(None, {})
        model: type[Model] = self.resource.model
        self.unique_holders = {}
        for name in self.unique:
            values = {payload[name] for payload in payloads if payload and payload.get(name) not in (None, "")}
            holders: dict[str, set[int]] = {}
            if values:
                for value, pk in model._default_manager.filter(**{f"{name}__in": values}).values_list(name, "pk"):
                    holders.setdefault(str(value), set()).add(pk)
            self.unique_holders[name] = holders

    def taken_values(self, data: dict[str, Any], record: Any) -> list[tuple[str, str]]:
        """The unique fields whose value in ``data`` another record holds, each with
        the message that says so."""
        taken = []
        for name, message in self.unique.items():
            value = data.get(name)
            if value in (None, ""):
                continue
            holders = self.unique_holders.get(name, {}).get(str(value), set())
            if holders - {getattr(record, "pk", None)}:
                taken.append((name, message))
        return taken

    def find_customers(self, how: str, values: set[str]) -> None:
        """The customers a window's rows name by ``how`` (code, tax id or exact name),
        among those the user may see, in one statement (at most two a value: more than
        one is an error of the row's)."""
        wanted = [value for value in values if (how, value) not in self.customers_by]
        if not wanted:
            return
        field_name = _CUSTOMER_KEYS[how]
        for value in wanted:
            self.customers_by[(how, value)] = []
        visible = customers_visible_to(self.user)
        for value, pk in visible.filter(**{f"{field_name}__in": wanted}).values_list(field_name, "pk"):
            found = self.customers_by.setdefault((how, str(value)), [])
            if len(found) < 2:
                found.append(pk)

    def find_linked(self, payloads: list[dict[str, Any] | None]) -> None:
        """The customers the window's rows are linked to, fetched together through the
        serializer's own field (so within the user's scope), rather than one by one as
        each row is checked."""
        serializer = self.serializer(None, {})
        field = serializer.fields.get("customer")
        if not isinstance(field, relations.PrimaryKeyRelatedField):
            return
        found = self.linked.setdefault("customer", {})
        pks = {
            payload["customer"]
            for payload in payloads
            if payload and isinstance(payload.get("customer"), int) and ("int", str(payload["customer"])) not in found
        }
        queryset = field.get_queryset()
        if pks and queryset is not None:
            for pk, record in queryset.in_bulk(list(pks)).items():
                found[("int", str(pk))] = record

    def customer(self, how: str, value: str) -> list[int]:
        """The customers (at most two) a cell names by ``how``: found with the window's
        others by :meth:`find_customers`."""
        self.find_customers(how, {value})
        return self.customers_by[(how, value)]


def _model_field(model: type[Model], name: str) -> Field[Any, Any] | None:
    try:
        field = model._meta.get_field(name)
    except Exception:  # noqa: BLE001 - a serializer field of no model field
        return None
    return field if isinstance(field, Field) and field.concrete else None


def _unique_message(model: type[Model], name: str) -> str:
    """What a value of ``model``'s unique field ``name`` taken by another record gets
    (the model's own words), or "" if the field is not unique."""
    field = _model_field(model, name)
    if field is None or not field.unique or field.primary_key:
        return ""
    return str(field.error_messages["unique"]) % {
        "model_name": str(model._meta.verbose_name).capitalize(),
        "field_label": str(field.verbose_name),
    }


#: The customer field a column naming a row's customer is matched on.
_CUSTOMER_KEYS = {"customer_code": "code", "customer_tax_id": "tax_id", "customer_name": "name"}
_CHINESE_DIGITS = {"一": "1", "二": "2", "两": "2", "三": "3", "四": "4", "五": "5", "六": "6", "七": "7"}
_TIER_WORDS = re.compile(r"(客户|会员|等级|级|卡|tier|level|customer|member)$")


def _tier_key(text: str) -> str:
    """A tier's name as tables write it, reduced to what tells it: 黄金级 and 黄金客户 are
    黄金, ★★★ and 三星级 are 3."""
    key = re.sub(r"[\s_\-]+", "", str(text)).lower()
    for _round in range(2):
        key = _TIER_WORDS.sub("", key) or key
    if key and set(key) <= {"★", "☆"}:
        return str(key.count("★"))
    star = re.fullmatch(r"([0-9一二两三四五六七])(?:星|stars?)", key)
    if star:
        return _CHINESE_DIGITS.get(star[1], star[1])
    return key


def _remembered(lookup: Any, found: dict[tuple[str, str], Any]) -> Any:
    """A related field's lookup (one query per value) asked once per value of the file:
    a file names the same customer, owner or product on many rows (``found``: what was
    looked up, or fetched for a whole window by :meth:`_Context.find_linked`)."""

    def remembered(data: Any) -> Any:
        key = (type(data).__name__, str(data))
        if key not in found:
            found[key] = lookup(data)
        return found[key]

    return remembered


def import_targets(import_kind: ImportKind, user: Any) -> list[Target]:
    """What a column of ``import_kind`` may fill for ``user``: the resource's fields, the
    columns naming a row's customer, and the kind's extra columns (the tier refused to
    those who may not set one)."""
    resource = get_resource(import_kind.resource)
    assert resource is not None
    targets = targets_for(resource, user)
    if import_kind.customer_link:
        # The columns naming the customer, in place of the record's read-only echo of
        # it (a contact's ``customer_name``).
        targets = [target for target in targets if target.field not in CUSTOMER_LINKS]
        targets += [Target(field=name, names=names) for name, names in CUSTOMER_LINKS.items()]
    for name in import_kind.extras:
        refused = ""
        if name == "current_tier" and user is not None and not may(user, "override", "tier-changes"):
            refused = _("Only a manager may set a customer's tier.")
        with translation.override("zh-hans"):
            chinese = str(EXTRA_LABELS[name])
        with translation.override("en"):
            english = str(EXTRA_LABELS[name])
        targets.append(Target(field=name, names=(chinese, english, *CUSTOMER_EXTRAS[name]), refused=refused))
    return targets


def _checked(kind: str, mode: str, key: str | None) -> tuple[ImportKind, str]:
    if kind not in KINDS:
        raise DomainError(_("Unknown kind of import: %(kind)s.") % {"kind": kind[:40]})
    if mode not in MODES:
        raise DomainError(_("Unknown mode: %(mode)s.") % {"mode": mode[:20]})
    import_kind = KINDS[kind]
    key = key or import_kind.keys[0]
    if key not in import_kind.keys:
        raise DomainError(_("Records of this kind are found by %(keys)s.") % {"keys": ", ".join(import_kind.keys)})
    return import_kind, key


def plan_import(path: str | Path, **options: Any) -> Plan:
    """Read ``path`` and say what importing it would do, every row in one plan (the
    options of :func:`plan_import_windows`)."""
    return next(plan_import_windows(path, **options, window=None))


def plan_import_windows(
    path: str | Path,
    *,
    user: Any,
    kind: str,
    filename: str | None = None,
    mode: str = "upsert",
    key: str | None = None,
    mapping: dict[str, str | None] | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    window: int | None = 0,
) -> Iterator[Plan]:
    """Read ``path`` and say what importing it as ``kind`` records for ``user`` would do,
    a window of rows at a time (``window``; 0: the setting's, ``CRM_IMPORT_WINDOW_ROWS``;
    None: every row in one plan), the file streamed as it goes (see :func:`plan_windows`).

    ``mode`` is create (every row is new), update (every row names a record by ``key``)
    or upsert (a row whose key names a record updates it, others are created);
    ``mapping`` overrides the automatic match of headers to fields (header → field, or
    ``None`` to leave a column out).
    """
    import_kind, key = _checked(kind, mode, key)
    known = knows(import_targets(import_kind, user))
    source = read_file(
        path, filename=filename, encoding=encoding, delimiter=delimiter, is_header=lambda t: normalise(t) in known
    )
    windows = plan_windows(
        source.tables[0],
        source,
        user=user,
        kind=kind,
        mode=mode,
        key=key,
        mapping=mapping,
        window=window_rows() if window == 0 else window,
    )
    for plan in windows:
        plan.file_name = filename or Path(path).name
        yield plan


def plan_workbook(path: str | Path, *, user: Any, filename: str | None = None, mode: str = "upsert") -> list[Plan]:
    """Plan every sheet of a workbook that holds one kind of record, recognised by its
    headers, checked together: customers first, then the sheets whose rows name their
    customer, which may be one the customers sheet creates."""
    targets = {code: import_targets(kind, user) for code, kind in KINDS.items()}
    known = set().union(*(knows(found) for found in targets.values()))
    source = read_file(path, filename=filename, is_header=lambda t: normalise(t) in known)
    chosen: list[tuple[str, Table]] = []
    for table in source.tables:
        scores = {
            code: sum(
                1 for match in match_headers(table.headers, found) if match.field and match.field not in CUSTOMER_LINKS
            )
            for code, found in targets.items()
        }
        best = max(scores, key=lambda code: (scores[code], code == "customers"))
        if scores[best] >= 2:
            chosen.append((best, table))
    if not chosen:
        raise DomainError(_("No sheet of this workbook holds customers, contacts or orders."))
    chosen.sort(key=lambda item: item[0] != "customers")
    plans: list[Plan] = []
    new_customers: dict[tuple[str, str], Row] = {}
    for code, table in chosen:
        plan = plan_table(table, source, user=user, kind=code, mode=mode, key=None, new_customers=new_customers)
        plan.file_name = filename or Path(path).name
        if code == "customers":
            for row in plan.rows:
                if row.action == CREATE:
                    for reference in row.customer_references():
                        new_customers.setdefault(reference, row)
        plans.append(plan)
    return plans


def plan_table(table: Table, source: Any, **options: Any) -> Plan:
    """What importing one table would do, every row in one plan (the options of
    :func:`plan_windows`; ``new_customers`` are the customers another sheet of the same
    workbook creates, which this table's rows may name)."""
    return next(plan_windows(table, source, **options, window=None))


def window_rows() -> int:
    """How many rows of a file are checked together (``CRM_IMPORT_WINDOW_ROWS``): a
    file's plan never holds more, whatever its size."""
    return max(1, int(getattr(settings, "CRM_IMPORT_WINDOW_ROWS", 5000)))


def plan_windows(
    table: Table,
    source: Any,
    *,
    user: Any,
    kind: str,
    mode: str = "upsert",
    key: str | None = None,
    mapping: dict[str, str | None] | None = None,
    new_customers: dict[tuple[str, str], Row] | None = None,
    window: int | None = None,
) -> Iterator[Plan]:
    """The plan of one table ``window`` rows at a time (all of them when ``None``), in
    the file's order: each a :class:`Plan` of its rows only, so a file of a million rows
    is checked and imported in bounded memory.  What spans the file is carried from one
    window to the next: the key values already seen (a key twice in the file is an
    error at its second row), the customers already seen (a duplicate within the file),
    and the people, teams, products and customers named in cells.  A date column's day
    and month order is read from the first window; the first plan carries the column
    problems.  A table without rows gives one empty plan."""
    import_kind, key = _checked(kind, mode, key)
    resource = get_resource(import_kind.resource)
    assert resource is not None
    targets = import_targets(import_kind, user)
    matches = _mapped(match_headers(table.headers, targets), mapping or {}, {t.field for t in targets})
    refusals = {target.field: target.refused for target in targets if target.refused}
    refused = [(m.column, m.header, refusals[m.field]) for m in matches if m.field in refusals]
    used = [m for m in matches if m.field is not None and m.field not in refusals]
    context = _Context(user, resource)
    context.new_customers = new_customers if new_customers is not None else {}
    fields = resource.viewset.serializer_class(context={"request": context.request}).fields
    if resource.governed and user is not None:
        mapped = [m.field for m in used if m.field and m.field in fields]
        context.proposable = proposable_fields(user, resource.name, mapped)
    withheld = [
        (m.column, m.field) for m in matches if m.field is not None and m.field in refusals and m.field in fields
    ]
    seen: dict[str, int] = {}
    in_file: dict[tuple[str, str], int] = {}
    orders: dict[int, Any] | None = None
    numbered = table.rows()
    first = True
    while True:
        batch = [Row(number=number, values=values) for number, values in islice(numbered, window or max_rows() + 1)]
        if not batch and not first:
            return
        plan = Plan(
            kind=import_kind,
            mode=mode,
            key=key,
            table=table,
            matches=matches,
            refused=refused,
            rows=batch,
            encoding=source.encoding,
            delimiter=source.delimiter,
            proposable=context.proposable,
        )
        if orders is None:
            orders = _date_orders(plan, used, fields)
        _check_window(plan, used, fields, orders, withheld, seen, context)
        suspect_duplicates(plan, user, in_file=in_file)
        yield plan
        first = False
        if window is None or len(batch) < window:
            return


def _check_window(
    plan: Plan,
    used: list[Match],
    fields: Any,
    orders: dict[int, Any],
    withheld: list[tuple[int, str]],
    seen: dict[str, int],
    context: _Context,
) -> None:
    """Read and check the rows of one window (see :func:`plan_windows`)."""
    payloads: list[dict[str, Any] | None] = []
    for match in used:
        if match.field in CUSTOMER_LINKS:
            texts = (parse_text(row.values[match.column]) for row in plan.rows if match.column < len(row.values))
            context.find_customers(match.field, {text.value for text in texts if text.ok and text.value})
    for row in plan.rows:
        for column, name in withheld:
            raw = row.values[column] if column < len(row.values) else None
            parsed = _convert(fields[name], name, raw, None, context) if raw is not None else None
            if parsed is not None and parsed.ok and parsed.value is not None:
                row.evidence[name] = parsed.value
        payloads.append(_parse_row(row, used, fields, orders, context))
    context.find_linked(payloads)
    context.existing, context.taken = _existing(plan, plan.rows, payloads, context)
    context.find_unique_holders(payloads)
    key = plan.key
    for row, payload in zip(plan.rows, payloads, strict=True):
        if payload is not None:
            _check_row(plan, row, payload, used, context)
        value = row.data.get(key, row.evidence.get(key) if key in context.proposable else None)
        if value not in (None, "") and row.action != ERROR:
            if str(value) in seen:
                row.problems.append(
                    Problem(row.number, _column_of(used, key), _("Same %(key)s as row %(row)d.") % {
                        "key": _key_label(plan, used, context.resource.model), "row": seen[str(value)]})
                )  # fmt: skip
                row.action = ERROR
            else:
                seen[str(value)] = row.number


def _mapped(matches: list[Match], mapping: dict[str, str | None], fields: set[str]) -> list[Match]:
    """The automatic matches, with the user's choices for the headers they named."""
    if not mapping:
        return matches
    chosen = {header: target for header, target in mapping.items() if target is None or target in fields}
    taken = {target for target in chosen.values() if target}
    result = []
    for match in matches:
        if match.header in chosen:
            target = chosen[match.header]
            result.append(Match(match.column, match.header, target, "chosen" if target else "", 1.0 if target else 0))
        elif match.field in taken:
            result.append(Match(match.column, match.header, None, "", 0.0))
        else:
            result.append(match)
    return result


def _header_of(used: list[Match], name: str) -> str:
    return next((str(match.header) for match in used if match.field == name), name)


def _column_of(used: list[Match], name: str) -> int | None:
    return next((match.column for match in used if match.field == name), None)


def _date_orders(plan: Plan, used: list[Match], fields: Any) -> dict[int, Any]:
    """How each date column writes its dates, read from all of its values; a column
    whose day and month could be either way is a problem of its own."""
    orders: dict[int, Any] = {}
    for match in used:
        target = fields.get(match.field)
        if isinstance(target, (serializers.DateField, serializers.DateTimeField)):
            order = date_order(row.values[match.column] for row in plan.rows)
            orders[match.column] = None if order == "ambiguous" else order
            if order == "ambiguous":
                plan.column_problems.append(
                    Problem(plan.table.header_row, match.column, _(
                        "%(header)s: day and month could be either way round; write the dates as 2024-03-01."
                    ) % {"header": match.header})
                )  # fmt: skip
    return orders


def _parse_row(
    row: Row, used: list[Match], fields: Any, orders: dict[int, Any], context: _Context
) -> dict[str, Any] | None:
    """Each cell of the row as the field it fills takes it; None (and the row in error)
    if a cell cannot be read."""
    payload: dict[str, Any] = {}
    implied: dict[str, Any] = {}
    for match in used:
        raw = row.values[match.column] if match.column < len(row.values) else None
        if raw is None or match.field is None:
            continue
        if match.field in CUSTOMER_LINKS:
            _link_customer(row, match, raw, payload, context)
            continue
        if match.field in CUSTOMER_EXTRAS:
            _extra(row, match, raw, implied, context)
            continue
        parsed = _convert(fields[match.field], match.field, raw, orders.get(match.column), context)
        if parsed.error:
            row.problems.append(Problem(row.number, match.column, f"{match.header}: {parsed.error}"))
        elif parsed.value is not None:
            _place(payload, match.field, parsed.value, implied)
    for name, value in implied.items():
        payload.setdefault(name, value)
    if row.problems:
        row.action = ERROR
        return None
    return payload


def _extra(row: Row, match: Match, raw: Any, implied: dict[str, Any], context: _Context) -> None:
    """A column beyond the record's fields (``kinds.CUSTOMER_EXTRAS``): the tier a table
    gave, kept for the commit; the years as a customer, as the day it became one (a
    column of that day of its own wins)."""
    parsed: Parsed[Any]
    if match.field == "current_tier":
        text = parse_text(raw)
        parsed = context.tier(text.value) if text.ok and text.value else text
        if parsed.ok and parsed.value is not None:
            row.extras["current_tier"] = parsed.value
    else:
        parsed = _years(raw)
        if parsed.ok and parsed.value is not None:
            days = round(float(parsed.value) * 365.25)
            implied["customer_since"] = timezone.localdate() - dt.timedelta(days=days)
    if parsed.error:
        row.problems.append(Problem(row.number, match.column, f"{match.header}: {parsed.error}"))


_YEAR_UNITS = ("", "年", "年以上", "年多", "y", "yr", "yrs", "year", "years")
_MONTH_UNITS = ("个月", "月", "个月以上", "month", "months")


def _years(raw: Any) -> Parsed[Any]:
    """A length of time in years: ``2年``, ``2``, ``1.5年``, ``18个月``, ``3 years``."""
    number = parse_number(raw)
    if number.error or number.value is None:
        return number
    unit = (number.unit or "").strip().lower()
    if number.value < 0 or number.value > 200 or unit not in (*_YEAR_UNITS, *_MONTH_UNITS):
        return Parsed(error=_("Not a number of years: %(value)s") % {"value": str(raw)[:40]})
    return Parsed(number.value / 12 if unit in _MONTH_UNITS else number.value)


def _existing(
    plan: Plan, rows: list[Row], payloads: list[dict[str, Any] | None], context: _Context
) -> tuple[dict[str, list[Any]], set[str]]:
    """The records the rows' keys name, among those the user may see, asked once for the
    whole file: by key value (as text).  And the key values held beyond the user's reach
    (a unique key: it can be neither created again nor updated by them)."""
    values: set[Any] = set()
    for row, payload in zip(rows, payloads, strict=True):
        if payload is not None:
            value = payload.get(plan.key) if plan.key != "id" else row.evidence.get("id")
            if value not in (None, ""):
                values.add(value)
    model: type[Model] = context.resource.model
    found: dict[str, list[Any]] = {}
    taken: set[str] = set()
    listed = list(values)
    for start in range(0, len(listed), 5000):
        part = listed[start : start + 5000]
        for record in scoped_queryset(model, context.user).filter(**{f"{plan.key}__in": part}):
            found.setdefault(str(getattr(record, plan.key)), []).append(record)
        if plan.key != "id" and getattr(model._meta.get_field(plan.key), "unique", False):
            taken |= {str(v) for v in held_beyond_scope(model, context.user, plan.key, part)}
    return found, taken


def _check_row(plan: Plan, row: Row, payload: dict[str, Any], used: list[Match], context: _Context) -> None:
    _find_existing(plan, row, payload, used, context)
    if row.action == ERROR:
        return
    proposing = {name: payload.pop(name) for name in list(payload) if name in context.proposable}
    serializer = context.serializer(row.record, payload, linked_later=row.customer_ref is not None)
    if not serializer.is_valid():
        for name, messages in serializer.errors.items():
            column = _column_of(used, name)
            for message in _flatten(messages):
                row.problems.append(Problem(row.number, column, f"{_header_of(used, name)}: {message}"))
        row.action = ERROR
        return
    row.data = dict(serializer.validated_data)
    # The input rules the services check when writing (a date of the business within its
    # range, text without control characters ...), said at the dry run.
    broken = [
        Problem(row.number, _column_of(used, name), f"{_header_of(used, name)}: {message}")
        for name, value in row.data.items()
        if (model_field := _model_field(context.resource.model, name)) is not None
        for message in field_problems(model_field, value)
    ]
    if broken:
        row.problems += broken
        row.action = ERROR
        return
    # A row whose key names a record already is a duplicate of it, whatever else it holds.
    taken = context.taken_values(row.data, row.record) if row.action != DUPLICATE else []
    if taken:
        for name, message in taken:
            row.problems.append(Problem(row.number, _column_of(used, name), f"{_header_of(used, name)}: {message}"))
        row.action = ERROR
        return
    if proposing and not _check_proposals(row, proposing, serializer, used, context):
        row.action = ERROR
        return
    tier = row.extras.get("current_tier")
    if row.record is not None and _same(row.record, row.data) and (tier is None or tier.pk == row.record.tier_id):
        row.action = UNCHANGED


def _check_proposals(
    row: Row, proposing: dict[str, Any], serializer: Any, used: list[Match], context: _Context
) -> bool:
    """Check the row's values of the fields the user may only propose, as the API checks
    a proposal (each field's own validation, the model's input rules, a unique value
    taken by another record), and keep those that would change the record as the row's
    proposal.  A new record is compared with a record of the model's defaults: it is
    created without these values, and a change request proposes them.  Returns whether
    the values are fine (the problems are the row's)."""
    checked: dict[str, Any] = {}
    known = len(row.problems)
    for name, value in proposing.items():
        field = serializer.fields[name]
        try:
            checked[name] = field.run_validation(value)
        except serializers.ValidationError as error:
            for message in _flatten(error.detail):
                row.problems.append(Problem(row.number, _column_of(used, name), f"{_header_of(used, name)}: {message}"))
            continue
        model_field = _model_field(context.resource.model, field.source)
        for message in field_problems(model_field, checked[name]) if model_field is not None else []:
            row.problems.append(Problem(row.number, _column_of(used, name), f"{_header_of(used, name)}: {message}"))
    taken = context.taken_values(checked, row.record)
    if row.record is not None:
        for name, message in taken:
            row.problems.append(Problem(row.number, _column_of(used, name), f"{_header_of(used, name)}: {message}"))
    if len(row.problems) > known:
        return False
    # What the row says is evidence still (a tax id tells a duplicate), written or not.
    row.evidence.update({name: value for name, value in checked.items() if value not in (None, "")})
    record = row.record if row.record is not None else context.resource.model()
    changed = proposed_changes(record, checked)
    # For a new record, a value another record holds makes it a suspected duplicate
    # (``duplicates``: the user chooses), not an error; it is not proposed, as the API
    # refuses to propose it.
    held = {name for name, _message in taken}
    row.proposed = {name: checked[name] for name in changed if name not in held}
    return True


def _place(payload: dict[str, Any], name: str, value: Any, implied: dict[str, Any]) -> None:
    """Put a value in the row.  A place fills its own field, and the other two of region,
    province and city only where the row has no column of its own for them
    (``implied``); a landline in a mobile column goes to the phone."""
    if name in ("region", "province", "city") and isinstance(value, tuple):
        parts = dict(zip(("region", "province", "city"), value, strict=True))
        payload[name] = parts[name]
        for other, part in parts.items():
            if other != name and part:
                implied.setdefault(other, part)
        return
    if name == "mobile" and isinstance(value, tuple):
        number, kind = value
        payload["mobile" if kind == "mobile" else "phone"] = number
        return
    if name == "phone" and isinstance(value, tuple):
        payload["phone"] = value[0]
        return
    payload[name] = value


def _convert(target: Any, name: str, raw: Any, order: Any, context: _Context) -> Parsed[Any]:
    """One cell as the field it fills takes it (see the module's docstring)."""
    if isinstance(target, serializers.BooleanField):
        return parse_bool(raw)
    if name in ("region", "province", "city"):
        if name == "region":
            region = choice_value(raw, target.choices)
            if region is not None:
                return Parsed(region)
        place = parse_place(raw)
        if place.error or place.value is None:
            return place if name == "region" else parse_text(raw, getattr(target, "max_length", None))
        return Parsed((place.value.region, place.value.province, place.value.city))
    if isinstance(target, serializers.ChoiceField) and not isinstance(target, serializers.MultipleChoiceField):
        return parse_choice(raw, target.choices)
    if isinstance(target, serializers.DecimalField):
        return parse_money(raw) if target.decimal_places == 2 else parse_number(raw)
    if isinstance(target, serializers.IntegerField):
        return parse_number(raw, whole=True)
    if isinstance(target, serializers.DateTimeField):
        if isinstance(raw, dt.datetime):
            return Parsed(timezone.make_aware(raw) if timezone.is_naive(raw) else raw)
        day = parse_date(raw, order)
        if day.error or day.value is None:
            return day
        return Parsed(timezone.make_aware(dt.datetime.combine(day.value, dt.time.min)))
    if isinstance(target, serializers.DateField):
        return parse_date(raw, order)
    if isinstance(target, serializers.ListField):
        text = parse_text(raw)
        if text.error or text.value is None:
            return text
        if text.value.startswith("["):  # as the exports write a list
            try:
                items = json.loads(text.value)
            except ValueError:
                items = None
            if isinstance(items, list):
                return Parsed([str(item).strip() for item in items if str(item).strip()])
        return Parsed([part.strip() for part in _SPLIT.split(text.value) if part.strip()])
    if isinstance(target, relations.RelatedField):
        return _related(target, name, raw, context)
    if name in _PHONE_FIELDS:
        phone = parse_phone(raw)
        if phone.error or phone.value is None:
            return phone
        return Parsed((phone.value.number, phone.value.kind))
    if isinstance(target, serializers.EmailField):
        text = parse_text(raw, getattr(target, "max_length", None))
        return Parsed(text.value.lower()) if text.value else text
    return parse_text(raw, getattr(target, "max_length", None))


def _related(target: Any, name: str, raw: Any, context: _Context) -> Parsed[Any]:
    """A person, a team or a product named as people name them; only among those the
    user may see."""
    text = parse_text(raw)
    if text.error or not text.value:
        return text
    model = target.queryset.model if target.queryset is not None else None
    cache_key = (getattr(model, "__name__", name), text.value)
    if cache_key not in context.related:
        context.related[cache_key] = _find_related(model, text.value, context)
    return context.related[cache_key]


def _find_related(model: Any, value: str, context: _Context) -> Parsed[Any]:
    found: list[Any] = []
    if model is not None and value.isdigit() and len(value) < 19:
        # An id, as the exports write a link: only one the user may see.
        found = list(scoped_queryset(model, context.user).filter(pk=int(value)).values_list("pk", flat=True))
    elif model is User:
        people = scoped_queryset(User, context.user).filter(is_active=True)
        names = value.split()
        by_name = Q(username__iexact=value)
        if len(names) >= 1:
            by_name |= Q(first_name__iexact=value) | Q(last_name__iexact=value)
        found = list(people.filter(by_name).values_list("pk", flat=True)[:2])
    elif model is Team:
        found = list(scoped_queryset(Team, context.user).filter(name__iexact=value).values_list("pk", flat=True)[:2])
    elif model is not None and hasattr(model, "sku"):
        products = scoped_queryset(model, context.user)
        found = list(products.filter(Q(sku__iexact=value) | Q(name__iexact=value)).values_list("pk", flat=True)[:2])
    elif model is not None:
        # A contact, a campaign, an order …: by its name, code or reference, among those
        # the user may see.
        names = [name for name in ("name", "code", "external_ref") if _has_field(model, name)]
        if names:
            by = Q()
            for name in names:
                by |= Q(**{f"{name}__iexact": value})
            found = list(scoped_queryset(model, context.user).filter(by).values_list("pk", flat=True)[:2])
    if len(found) == 1:
        return Parsed(found[0])
    if len(found) > 1:
        return Parsed(error=_("More than one matches %(value)s; write it exactly.") % {"value": value[:40]})
    return Parsed(error=_("Nothing called %(value)s was found.") % {"value": value[:40]})


def _has_field(model: Any, name: str) -> bool:
    return any(field.name == name for field in model._meta.get_fields())


def _link_customer(row: Row, match: Match, raw: Any, payload: dict[str, Any], context: _Context) -> None:
    if "customer" in payload or match.field is None:
        return
    text = parse_text(raw)
    if text.error or not text.value:
        row.problems.append(Problem(row.number, match.column, f"{match.header}: {text.error}"))
        return
    found = context.customer(match.field, text.value)
    if len(found) == 1:
        payload["customer"] = found[0]
    elif found:
        message = _("%(value)s names more than one customer; use the customer code.") % {"value": text.value[:40]}
        row.problems.append(Problem(row.number, match.column, message))
    elif (match.field, text.value) in context.new_customers:
        # A customer the workbook's customers sheet creates: linked once it exists.
        row.customer_ref = (match.field, text.value)
    else:
        message = _("No customer of yours is %(value)s.") % {"value": text.value[:40]}
        row.problems.append(Problem(row.number, match.column, message))


def _key_label(plan: Plan, used: list[Match], model: type[Model]) -> str:
    """The key as the user knows it: its column's header, or the field's name."""
    if any(match.field == plan.key for match in used):
        return _header_of(used, plan.key)
    field = _model_field(model, plan.key)
    return str(field.verbose_name) if field is not None else plan.key


def _find_existing(plan: Plan, row: Row, payload: dict[str, Any], used: list[Match], context: _Context) -> None:
    """The record the row's key names, if the user may see one: the row then updates it
    (in update and upsert modes) or is a duplicate (in create mode)."""
    # An id is never written, but names the record an export's row came from.
    value = payload.get(plan.key) if plan.key != "id" else row.evidence.get("id")
    model: type[Model] = context.resource.model
    key, column = _key_label(plan, used, model), _column_of(used, plan.key)
    if value in (None, ""):
        if plan.mode == "update":
            row.problems.append(Problem(row.number, column, _("An update needs the %(key)s of the record.") % {
                "key": key}))  # fmt: skip
            row.action = ERROR
        return
    found = list(context.existing.get(str(value), []))
    if "customer" in payload and hasattr(model, "customer_id"):
        found = [record for record in found if record.customer_id == payload["customer"]]
    if len(found) > 1:
        row.problems.append(Problem(row.number, column, _("More than one record has this %(key)s.") % {"key": key}))
        row.action = ERROR
    elif found and plan.mode == "create":
        row.action = DUPLICATE
        row.problems.append(Problem(row.number, column, _("A record with this %(key)s exists already.") % {
            "key": key}))  # fmt: skip
    elif found:
        row.record = found[0]
        row.action = UPDATE
    elif plan.mode == "update" or plan.key == "id":
        row.problems.append(Problem(row.number, column, _("No record of yours has this %(key)s.") % {"key": key}))
        row.action = ERROR
    elif str(value) in context.taken:
        # Held beyond the user's reach: it can be neither created again nor updated by
        # them, and nothing more is said of the record.
        row.problems.append(Problem(row.number, column, _("This %(key)s is already taken.") % {"key": key}))
        row.action = ERROR


def _same(record: Model, data: dict[str, Any]) -> bool:
    """Whether the row says nothing the record does not already hold."""
    for name, value in data.items():
        current = getattr(record, name, None)
        if isinstance(current, Model):
            current = current.pk
        if isinstance(value, Model):
            value = value.pk
        if isinstance(current, dt.datetime) and isinstance(value, dt.datetime):
            # A workbook keeps a time to the millisecond.
            if abs((current - value).total_seconds()) < 0.001:
                continue
        if current != value:
            return False
    return True


def _flatten(messages: Any) -> list[str]:
    if isinstance(messages, dict):
        return [str(message) for value in messages.values() for message in _flatten(value)]
    if isinstance(messages, (list, tuple)):
        return [str(message) for value in messages for message in _flatten(value)]
    return [str(messages)]
