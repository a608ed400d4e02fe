"""Suspected duplicates among the customers an import would create.

Every new customer of a file is checked against the book and the rest of the file:

- the same tax id;
- the same phone number (the customer's switchboard, or a contact's mobile or phone);
- a very similar name in the same city or province: names are compared without what
  companies add to them (有限公司, 股份有限公司, 集团, a city in brackets, spaces and
  full-width forms), PostgreSQL's trigram index finding the candidates (``pg_trgm``).

A suspected duplicate is not created unless the user says so: per row in the page and
the API (skip it, create it anyway, or update the customer it looks like, when the user
may see that one), for all of them with ``create_duplicates`` or
``--create-duplicates`` on the command line.  The reason is said in words, naming the
existing customer when the user may see it, and only that one exists when they may not.
Each check is one statement for the whole file, never one per row.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from difflib import SequenceMatcher
from typing import Any

from django.db import connection
from django.utils.translation import gettext as _

from crm.access.scope import customers_visible_to, held_beyond_scope, scoped_queryset
from customers.models import Contact, Customer

from .rows import CREATE, DUPLICATE, Plan, Problem, Row

#: What companies add to their names, stripped before names are compared.
_COMPANY_NOISE = re.compile(
    r"[（(][^）)]{1,12}[）)]|股份有限公司|有限责任公司|有限公司|股份公司|集团|公司|co\.?,?\s*ltd\.?|inc\.?|\s+"
)
#: How alike two stripped names must be, in the same city or province, to be suspected.
NAME_LIKENESS = 0.8


def company_key(name: str) -> str:
    """A company name without what companies add to it (see the module's docstring)."""
    folded = unicodedata.normalize("NFKC", name).lower()
    return _COMPANY_NOISE.sub("", folded) or folded


def suspect_duplicates(plan: Plan, user: Any, *, in_file: dict[tuple[str, str], int] | None = None) -> None:
    """Mark the customers ``plan`` would create that look like ones already in the book
    or earlier in the file (``in_file``: the tax ids and names of the rows before, when
    a file is checked a window of rows at a time)."""
    if plan.kind.resource != "customers":
        return
    rows = [row for row in plan.rows if row.action == CREATE]
    if not rows:
        return
    _same_in_file(rows, {} if in_file is None else in_file)
    _same_tax_id(rows, user)
    _same_phone(rows, user)
    _similar_names(rows, user)


def _value(row: Row, name: str) -> Any:
    """What the row says of ``name``, written or only seen (a column the user may not
    fill in is still evidence)."""
    return row.data.get(name) or row.evidence.get(name)


def _suspect(row: Row, message: str, existing: int | None = None) -> None:
    if row.action == CREATE:
        row.action = DUPLICATE
        row.suspected = True
    if row.duplicate_of is None:
        row.duplicate_of = existing
    row.problems.append(Problem(row.number, None, message))


def _same_in_file(rows: list[Row], first_by: dict[tuple[str, str], int]) -> None:
    for row in rows:
        name = row.data.get("name") or ""
        keys = [("tax_id", _value(row, "tax_id") or ""), ("name", company_key(name) if name else "")]
        for kind, value in keys:
            if not value:
                continue
            earlier = first_by.setdefault((kind, value), row.number)
            if earlier != row.number:
                what = _("tax id") if kind == "tax_id" else _("name")
                _suspect(row, _("Same %(what)s as row %(row)d of this file.") % {"what": what, "row": earlier})
                break


def _same_tax_id(rows: list[Row], user: Any) -> None:
    by_tax = defaultdict(list)
    for row in rows:
        if _value(row, "tax_id"):
            by_tax[_value(row, "tax_id")].append(row)
    if not by_tax:
        return
    visible = customers_visible_to(user).filter(tax_id__in=list(by_tax)).values_list("tax_id", "code", "name", "pk")
    for tax_id, code, name, pk in visible:
        for row in by_tax.pop(tax_id, []):
            _suspect(row, _("Same tax id as %(name)s (%(code)s).") % {"name": name, "code": code}, pk)
    for tax_id in held_beyond_scope(Customer, user, "tax_id", by_tax):
        for row in by_tax[tax_id]:
            _suspect(row, _("A customer with this tax id exists already; ask your manager who keeps it."))


def _same_phone(rows: list[Row], user: Any) -> None:
    by_phone = defaultdict(list)
    for row in rows:
        phone = _value(row, "phone")
        if isinstance(phone, tuple):
            phone = phone[0]
        if phone:
            by_phone[phone].append(row)
    if not by_phone:
        return
    phones = list(by_phone)
    found: dict[str, tuple[str, str, int]] = {}
    for phone, code, name, pk in (
        customers_visible_to(user).filter(phone__in=phones).values_list("phone", "code", "name", "pk")
    ):
        found.setdefault(phone, (name, code, pk))
    contacts = scoped_queryset(Contact, user).filter(mobile__in=phones) | scoped_queryset(Contact, user).filter(
        phone__in=phones
    )
    for mobile, phone, code, name, pk in contacts.values_list(
        "mobile", "phone", "customer__code", "customer__name", "customer_id"
    ):
        for number in (mobile, phone):
            if number in by_phone:
                found.setdefault(number, (name, code, pk))
    for number, (name, code, pk) in found.items():
        for row in by_phone[number]:
            if row.action == CREATE:
                _suspect(row, _("Same phone number as %(name)s (%(code)s).") % {"name": name, "code": code}, pk)


def _similar_names(rows: list[Row], user: Any) -> None:
    """Candidates by trigram index (one statement for the file), then names compared
    without company suffixes, in the same city or province.

    The index is asked whether the incoming name, without its suffixes, is much like a
    part of a stored name (``<%``, word similarity): the suffixes every company shares
    (有限公司) would otherwise make every name a candidate of every other.
    """
    named = [row for row in rows if row.action == CREATE and row.data.get("name")]
    if not named:
        return
    visible_sql, visible_params = customers_visible_to(user).values("pk").query.sql_with_params()
    statement = f"""
        SELECT i.n, c.code, c.name, c.city, c.province, c.id
        FROM unnest(%s::int[], %s::text[]) AS i(n, name)
        JOIN customers_customer c ON upper(i.name) <%% upper(c.name)
        WHERE c.id IN ({visible_sql})
    """  # noqa: S608 - the scope's own SQL and parameters
    with connection.cursor() as cursor:
        keys = [company_key(row.data["name"]).upper() for row in named]
        cursor.execute(statement, [[row.number for row in named], keys, *visible_params])
        candidates = cursor.fetchall()
    by_number = {row.number: row for row in named}
    for number, code, name, city, province, pk in candidates:
        row = by_number[number]
        if row.action != CREATE:
            continue
        incoming = row.data
        same_place = (city and city == incoming.get("city")) or (province and province == incoming.get("province"))
        if not same_place:
            continue
        likeness = SequenceMatcher(None, company_key(incoming["name"]), company_key(name)).ratio()
        if likeness >= NAME_LIKENESS:
            where = city or province
            _suspect(row, _("Names %(percent)d%% alike, both in %(place)s: %(name)s (%(code)s).") % {
                "percent": round(likeness * 100), "place": where, "name": name, "code": code}, pk)  # fmt: skip
