"""Template workbooks to fill in and import: one per kind of record, the whole
key-account archive (a sheet per section), and presets shaped as the tables the teams
keep today (the star-rated table, the customer asset table).

A template has the columns the downloading user may fill in (the field policy's say),
headed in their language and in the order of the record's fields (a preset: in its own
order, headed as the table it copies), an example row, a drop-down list in every column
of choices (the labels people read) and of yes/no, dates formatted as dates, and an
instructions sheet that says, per column, what it takes and whether it is required.
Imported back, its headers match at once; a workbook of several sheets imports as
``archive`` (every sheet checked together, linked by the customer code).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO, Any

import xlsxwriter
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from rest_framework import relations, serializers

from crm.access.registry import get_resource
from tiers.models import Tier

from .kinds import CUSTOMER_EXTRAS, CUSTOMER_LINKS, KINDS
from .planning import import_targets

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
    "history_spend": "¥10,000",
    "history_orders": "5次/年",
    "years_as_customer": "2年",
    "last_rated_on": "2024-03-01",
    "next_rating_on": "2024-06-01",
    "service_date": "2024-03-05",
    "content": "设备年度保养",
    "subject": "交货周期",
}


@dataclass(frozen=True)
class Preset:
    """A template shaped as a table people keep: its sheets, each of one kind, with the
    columns in the table's order (field, header in Chinese as the table writes it)."""

    code: str
    title: Any
    sheets: tuple[tuple[str, Any, tuple[tuple[str, str], ...]], ...]


#: Where each kind's rows sit in the archive (seed 000's sections), and the presets.
PRESETS = {
    "star-table": Preset(
        "star-table",
        _lazy("Star-rated customer table"),
        (
            ("customers", _lazy("Star-rated customers"), (
                ("name", "客户名称"), ("phone", "联系方式"), ("history_spend", "消费金额"),
                ("history_orders", "购买频次"), ("years_as_customer", "使用年限"), ("influence_score", "影响力评分"),
                ("current_tier", "当前等级"), ("last_rated_on", "上次评级日期"), ("next_rating_on", "下一次评级日期"),
            )),
        ),
    ),
    "asset-table": Preset(
        "asset-table",
        _lazy("Customer asset table"),
        (
            ("customers", _lazy("Basic information"), (
                ("code", "客户编号"), ("name", "客户名称"), ("phone", "联系方式"), ("email", "邮箱"),
                ("city", "所在城市"), ("industry", "行业分类"), ("company_size", "公司规模"),
                ("employee_count", "员工人数"), ("annual_revenue", "年营业额"), ("current_tier", "客户等级"),
                ("special_requirements", "特殊要求"), ("cooperation_prospects", "合作前景"), ("notes", "备注"),
            )),
            ("contacts", _lazy("Contacts"), (
                ("customer_code", "客户编号"), ("name", "联系人"), ("mobile", "手机"), ("email", "邮箱"),
                ("wechat", "微信"), ("title", "职位"),
            )),
            ("transactions", _lazy("Transactions"), (
                ("customer_code", "客户编号"), ("order_date", "交易日期"), ("product", "产品名称"),
                ("amount", "交易金额"), ("payment_method", "支付方式"), ("status", "订单状态"),
            )),
            ("service-records", _lazy("Service records"), (
                ("customer_code", "客户编号"), ("service_date", "服务日期"), ("service_type", "服务类型"),
                ("staff", "服务人员"), ("content", "服务内容"), ("result", "服务结果"),
                ("customer_comment", "客户反馈"),
            )),
            ("participations", _lazy("Campaigns"), (
                ("customer_code", "客户编号"), ("campaign", "活动名称"), ("status", "参与状态"),
                ("registered_at", "报名时间"), ("attended_at", "参加时间"),
            )),
        ),
    ),
}  # fmt: skip
#: What can be downloaded as a template beyond one kind: the whole archive and the presets.
ARCHIVE = "archive"
TEMPLATES = (*KINDS, ARCHIVE, *PRESETS)


def template_columns(kind: str, user: Any) -> list[tuple[str, str, Any]]:
    """The columns of ``kind``'s template for ``user``: (field, header, serializer field)."""
    import_kind = KINDS[kind]
    resource = get_resource(import_kind.resource)
    assert resource is not None
    fields = resource.viewset.serializer_class().fields
    columns: list[tuple[str, str, Any]] = []
    if import_kind.customer_link:
        columns.append(("customer_code", _("Customer code"), None))
    for target in import_targets(import_kind, user):
        field = fields.get(target.field)
        if target.refused or target.field in _LEFT_OUT or isinstance(field, serializers.JSONField):
            continue
        if field is None and target.field not in CUSTOMER_EXTRAS:
            continue
        if target.field == "customer" and import_kind.customer_link:
            continue
        header = target.names[0] if _active_is_chinese() else target.names[1]
        columns.append((target.field, header, field))
    return columns


def template_sheets(name: str, user: Any) -> list[tuple[str, str, list[tuple[str, str, Any]]]]:
    """The sheets of template ``name`` for ``user``: (sheet title, kind, columns).  A
    kind's template has one sheet; the archive has one per section of the key-account
    archive, customers first; a preset has its table's sheets and columns, less those the
    user may not fill in."""
    if name in KINDS:
        return [(_sheet_name(name), name, template_columns(name, user))]
    if name == ARCHIVE:
        sections = []
        for kind in KINDS:
            resource = get_resource(KINDS[kind].resource)
            assert resource is not None
            rank, title = resource.archive or (99, resource.model._meta.verbose_name_plural)
            sections.append((rank, str(title)[:31], kind))
        return [(title, kind, template_columns(kind, user)) for _rank, title, kind in sorted(sections)]
    preset = PRESETS[name]
    sheets = []
    for kind, title, wanted in preset.sheets:
        offered = {column[0]: column for column in template_columns(kind, user)}
        columns = []
        for field_name, chinese in wanted:
            if field_name in offered:
                _name, header, field = offered[field_name]
                columns.append((field_name, chinese if _active_is_chinese() else header, field))
        sheets.append((str(title)[:31], kind, columns))
    return sheets


def _active_is_chinese() -> bool:
    return (translation.get_language() or "").lower().startswith("zh")


def write_template(name: str, user: Any, target: str | IO[bytes]) -> None:
    """Write template ``name`` (a kind, ``archive`` or a preset) for ``user`` to ``target``."""
    book = xlsxwriter.Workbook(target, {"strings_to_formulas": False, "strings_to_numbers": False})
    formats = {
        "header": book.add_format({"bold": True, "bg_color": "#F2F2F2", "bottom": 1}),
        "required": book.add_format({"bold": True, "bg_color": "#FFF3CD", "bottom": 1}),
        "example": book.add_format({"italic": True, "font_color": "#6C757D"}),
        "dates": book.add_format({"num_format": "yyyy-mm-dd"}),
    }
    sheets = template_sheets(name, user)
    notes: list[tuple[str, str, str, str]] = []
    for title, _kind, columns in sheets:
        notes += _write_sheet(book, title, columns, formats)
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
    if len(sheets) > 1:
        lines.append(
            _("Import the workbook as a whole: its sheets are checked together; rows name their customer by its code.")
        )
    for at, line in enumerate(lines):
        guide.write_string(at, 0, line)
    top = len(lines) + 1
    headings: tuple[str, ...] = (_("Column"), _("Required"), _("What it takes"))
    if len(sheets) > 1:
        headings = (_("Sheet"), *headings)
    for index, heading in enumerate(headings):
        guide.write_string(top, index, heading, bold)
    for at, note in enumerate(notes, start=top + 1):
        for index, text in enumerate(note if len(sheets) > 1 else note[1:]):
            guide.write_string(at, index, text, wrap if index == len(headings) - 1 else None)
    widths = [28, 10, 90] if len(sheets) == 1 else [20, 28, 10, 90]
    for index, width in enumerate(widths):
        guide.set_column(index, index, width)
    book.close()


def _write_sheet(
    book: Any, title: str, columns: list[tuple[str, str, Any]], formats: dict[str, Any]
) -> list[tuple[str, str, str, str]]:
    """One sheet of a template: headers, drop-down lists, the example row; returns the
    instructions of its columns (sheet, column, required, what it takes)."""
    sheet = book.add_worksheet(title)
    yes, no = _("Yes"), _("No")
    notes = []
    for index, (name, header, field) in enumerate(columns):
        required = bool(field is not None and field.required) or name in CUSTOMER_LINKS
        sheet.write_string(0, index, header, formats["required" if required else "header"])
        width = max(12, min(40, len(header) * 2 + 4))
        sheet.set_column(index, index, width, formats["dates"] if _is_date(field) else None)
        choices = _tier_names() if name == "current_tier" else _choices(field, yes, no)
        if choices:
            sheet.data_validation(
                1, index, ROWS, index, {"validate": "list", "source": choices[:250], "ignore_blank": True}
            )
        value = _example(name, field, choices)
        if value is not None:
            sheet.write_string(1, index, str(value), formats["example"])
        notes.append((title, header, _required(required), _what(field, name, choices)))
    sheet.freeze_panes(1, 0)
    return notes


def _tier_names() -> list[str]:
    """The tiers by their names in the reader's language (the other where it is empty)."""
    return [tier.display_name for tier in Tier.objects.order_by("rank")]


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
    if name == "current_tier":
        return _("The tier the customer holds: %(choices)s; set with a history entry saying it was imported.") % {
            "choices": " / ".join(choices)}  # fmt: skip
    if name == "years_as_customer":
        return _("How long it has been a customer: 2年, 18个月; gives the day it became one.")
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
