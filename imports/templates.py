"""Template workbooks to fill in and import: one per kind of record.

A template has the columns the downloading user may fill in (the field policy's say),
headed in their language and in the order of the record's fields, an example row, a
drop-down list in every column of choices (the labels people read) and of yes/no, dates
formatted as dates, and an instructions sheet that says, per column, what it takes and
whether it is required.  Imported back, its headers match at once.
"""

from __future__ import annotations

from typing import IO, Any

import xlsxwriter
from django.utils import translation
from django.utils.translation import gettext as _
from rest_framework import relations, serializers

from crm.access.registry import get_resource
from crm.core.spreadsheets.headers import targets_for

from .kinds import CUSTOMER_LINKS, KINDS

#: How many rows of a template carry the drop-down lists.
ROWS = 1000
#: Columns that belong to the system or to another channel, never to a template.
_LEFT_OUT = {"social_accounts", "contacts", "tags_display"}
#: What the example row shows, by field (money and dates as people type them).
EXAMPLES: dict[str, Any] = {
    "code": "C-0001",
    "name": "华东重工股份有限公司",
    "short_name": "华东重工",
    "province": "浙江省",
    "city": "杭州市",
    "address": "杭州市西湖区文三路 100 号",
    "phone": "0571-88886666",
    "mobile": "13800138000",
    "email": "info@example.com",
    "website": "https://www.example.com",
    "tax_id": "91330100MA2B00000X",
    "annual_revenue": "1,200万",
    "employee_count": 1200,
    "credit_limit": "¥500,000",
    "payment_terms_days": 30,
    "influence_score": 8,
    "tags": "重点、制造",
    "customer_since": "2023-03-01",
    "title": "采购经理",
    "department": "采购部",
    "wechat": "wang_jl",
    "birthday": "1985-06-18",
    "quantity": 10,
    "unit_price": "¥1,000",
    "amount": "¥10,000",
    "order_date": "2024-03-01",
    "due_date": "2024-03-31",
    "external_ref": "SO-2024-0001",
    "description": "年度维护合同",
    "customer_code": "C-0001",
}


def template_columns(kind: str, user: Any) -> list[tuple[str, str, Any]]:
    """The columns of ``kind``'s template for ``user``: (field, header, serializer field)."""
    import_kind = KINDS[kind]
    resource = get_resource(import_kind.resource)
    assert resource is not None
    fields = resource.viewset.serializer_class().fields
    columns: list[tuple[str, str, Any]] = []
    if import_kind.customer_link:
        columns.append(("customer_code", _("Customer code"), None))
    for target in targets_for(resource, user):
        field = fields[target.field]
        if target.refused or target.field in _LEFT_OUT or isinstance(field, serializers.JSONField):
            continue
        if target.field == "customer" and import_kind.customer_link:
            continue
        header = target.names[0] if _active_is_chinese() else target.names[1]
        columns.append((target.field, header, field))
    return columns


def _active_is_chinese() -> bool:
    return (translation.get_language() or "").lower().startswith("zh")


def write_template(kind: str, user: Any, target: str | IO[bytes]) -> None:
    """Write ``kind``'s template for ``user`` to ``target``."""
    columns = template_columns(kind, user)
    book = xlsxwriter.Workbook(target, {"strings_to_formulas": False, "strings_to_numbers": False})
    sheet = book.add_worksheet(_sheet_name(kind))
    header = book.add_format({"bold": True, "bg_color": "#F2F2F2", "bottom": 1})
    required_header = book.add_format({"bold": True, "bg_color": "#FFF3CD", "bottom": 1})
    example = book.add_format({"italic": True, "font_color": "#6C757D"})
    dates = book.add_format({"num_format": "yyyy-mm-dd"})
    yes, no = _("Yes"), _("No")
    notes = []
    for index, (name, title, field) in enumerate(columns):
        required = bool(field is not None and field.required) or name in CUSTOMER_LINKS
        sheet.write_string(0, index, title, required_header if required else header)
        sheet.set_column(index, index, max(12, min(40, len(title) * 2 + 4)), dates if _is_date(field) else None)
        choices = _choices(field, yes, no)
        if choices:
            sheet.data_validation(
                1, index, ROWS, index, {"validate": "list", "source": choices[:250], "ignore_blank": True}
            )
        value = _example(name, field, choices)
        if value is not None:
            sheet.write_string(1, index, str(value), example)
        notes.append((title, _required(required), _what(field, name, choices)))
    sheet.freeze_panes(1, 0)
    guide = book.add_worksheet(_("Instructions")[:31])
    bold = book.add_format({"bold": True})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    lines = [
        _("Fill in one record per row, below the headers; the second row is an example: replace or delete it."),
        _("Columns with a yellow header are required. Leave a cell empty to leave the field as it is."),
        _("Amounts may be written as ¥10,000, 10,000元 or 1.2万; dates as 2024-03-01, 2024/3/1 or 2024年3月1日."),
        _("Choose from the drop-down list where there is one; the English names are understood too."),
        _("Import with a dry run first: it checks every row and writes nothing."),
    ]
    for at, line in enumerate(lines):
        guide.write_string(at, 0, line)
    top = len(lines) + 1
    for index, heading in enumerate((_("Column"), _("Required"), _("What it takes"))):
        guide.write_string(top, index, heading, bold)
    for at, (title, required_text, what) in enumerate(notes, start=top + 1):
        guide.write_string(at, 0, title)
        guide.write_string(at, 1, required_text)
        guide.write_string(at, 2, what, wrap)
    guide.set_column(0, 0, 28)
    guide.set_column(1, 1, 10)
    guide.set_column(2, 2, 90)
    book.close()


def _sheet_name(kind: str) -> str:
    resource = get_resource(KINDS[kind].resource)
    assert resource is not None
    return str(resource.model._meta.verbose_name_plural)[:31]


def _is_date(field: Any) -> bool:
    return isinstance(field, (serializers.DateField, serializers.DateTimeField))


def _choices(field: Any, yes: str, no: str) -> list[str]:
    if isinstance(field, serializers.BooleanField):
        return [yes, no]
    if isinstance(field, serializers.ChoiceField) and not isinstance(field, serializers.MultipleChoiceField):
        return [str(label) for label in field.choices.values()]
    return []


def _example(name: str, field: Any, choices: list[str]) -> Any:
    if name in EXAMPLES:
        return EXAMPLES[name]
    if choices:
        return choices[0]
    return None


def _required(required: bool) -> str:
    return _("Yes") if required else ""


def _what(field: Any, name: str, choices: list[str]) -> str:
    """What a column takes, in words."""
    if name in CUSTOMER_LINKS:
        return _("The customer's code, or its tax id, or its exact name.")
    if choices:
        return _("One of: %(choices)s") % {"choices": " / ".join(choices)}
    if isinstance(field, serializers.DecimalField):
        return _("An amount: ¥10,000, 10,000元, 1.2万.")
    if isinstance(field, serializers.IntegerField):
        return _("A whole number.")
    if _is_date(field):
        return _("A date: 2024-03-01, 2024/3/1, 2024年3月1日.")
    if isinstance(field, serializers.ListField):
        return _("Several values, separated by commas or 、.")
    if isinstance(field, relations.RelatedField):
        return _("A name, as it is written in the CRM.")
    if name in ("phone", "mobile"):
        return _("A phone number: 13800138000, 0571-88886666, +86 138 0013 8000.")
    max_length = getattr(field, "max_length", None)
    return _("Text, at most %(most)d characters.") % {"most": max_length} if max_length else _("Text.")
