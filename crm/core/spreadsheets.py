"""Writing lists as spreadsheets people open in Excel or WPS: CSV and ``.xlsx``.

Both formats take the rows a serializer rendered (so the field policy has already left
out hidden fields and masked masked ones) and the serializer's fields, which say what
each value is.

- **CSV** is text: a value a spreadsheet program would run as a formula (``=``, ``+``,
  ``-``, ``@``, a tab or a carriage return first) is written with a leading apostrophe.
- **xlsx** is typed: dates are dates, times are times in the business time zone, money is
  a number shown with its row's currency, counts are numbers, yes/no are booleans, a
  choice is its label in the reader's language; everything else is a text cell, which a
  spreadsheet never runs, so a formula cannot be injected.  The header is the fields'
  names in the reader's language, bold and frozen, with filters and widths fitted to the
  values.  XlsxWriter writes in constant memory (a row at a time into a temporary file),
  so a million rows take the memory of one.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import IO, Any

import xlsxwriter
from django.utils import timezone
from rest_framework import serializers

# Spreadsheet programs run a cell that starts with one of these as a formula.
FORMULA_START = ("=", "+", "@", "\t", "\r")
#: Excel's limits: longer text is cut (with a mark), more rows go to no sheet at all.
MAX_TEXT = 32_767
MAX_ROWS = 1_048_575
#: How each currency's amounts are shown.
CURRENCY_FORMATS = {"CNY": '"¥"#,##0.00', "USD": '"$"#,##0.00', "EUR": '"€"#,##0.00', "HKD": '"HK$"#,##0.00'}
NUMBER_FORMAT = "#,##0.00"
#: How many rows are read to fit the columns' widths.
WIDTH_SAMPLE = 200


def csv_cell(value: Any) -> str:
    """A value as CSV text that no spreadsheet program runs as a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    text = str(value)
    if text.startswith(FORMULA_START) or (text.startswith("-") and not text[1:2].isdigit()):
        return "'" + text
    return text


def _text(value: Any) -> str:
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    text = str(value)
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


class XlsxSheet:
    """One list written as one worksheet of a new workbook (``write`` then ``close``).

    ``columns`` are ``(name, header, field)``: the key of the value in each row, the
    header people read, and the serializer field that rendered it (``None`` for text).
    """

    def __init__(self, target: str | IO[bytes], *, title: str, columns: Sequence[tuple[str, str, Any]]) -> None:
        self.book = xlsxwriter.Workbook(
            target,
            {
                "constant_memory": True,
                # Text stays text: never a formula, a link or a number by its look.
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
                "remove_timezone": True,
            },
        )
        self.sheet = self.book.add_worksheet(_sheet_title(title))
        self.columns = list(columns)
        self.rows = 0
        self._formats: dict[str, Any] = {}
        self._widths = [min(max(len(header) * 2, 8), 60) for _name, header, _field in self.columns]
        header_format = self._format("header", bold=True, bg_color="#F2F2F2", bottom=1)
        for index, (_name, header, _field) in enumerate(self.columns):
            self.sheet.write_string(0, index, header, header_format)
        self.sheet.freeze_panes(1, 0)
        self._pending: list[Mapping[str, Any]] = []

    def _format(self, key: str, **properties: Any) -> Any:
        if key not in self._formats:
            self._formats[key] = self.book.add_format(properties)
        return self._formats[key]

    def write(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """Append rows (dicts by column name).  The first rows are held back to fit the
        column widths, which must be set before any row is written."""
        for row in rows:
            if self._pending is not None:
                self._pending.append(row)
                if len(self._pending) >= WIDTH_SAMPLE:
                    self._flush_pending()
            else:
                self._write_row(row)

    def _flush_pending(self) -> None:
        pending, self._pending = self._pending, None  # type: ignore[assignment]
        for row in pending:
            for index, (name, _header, field) in enumerate(self.columns):
                shown = _display(row.get(name), field)
                self._widths[index] = min(max(self._widths[index], _width(shown)), 60)
        for index, width in enumerate(self._widths):
            self.sheet.set_column(index, index, width + 2)
        for row in pending:
            self._write_row(row)

    def _write_row(self, row: Mapping[str, Any]) -> None:
        if self.rows >= MAX_ROWS:
            raise OverflowError("more rows than one sheet holds")
        self.rows += 1
        currency = row.get("currency")
        for index, (name, _header, field) in enumerate(self.columns):
            self._write_cell(self.rows, index, row.get(name), field, currency)

    def _write_cell(self, at: int, index: int, value: Any, field: Any, currency: Any) -> None:
        sheet = self.sheet
        if value is None or value == "":
            sheet.write_blank(at, index, None)
            return
        try:
            if isinstance(field, serializers.BooleanField) and isinstance(value, bool):
                sheet.write_boolean(at, index, value)
                return
            if isinstance(field, serializers.ChoiceField) and not isinstance(field, serializers.MultipleChoiceField):
                sheet.write_string(at, index, _text(field.choices.get(value, value)))
                return
            if isinstance(field, serializers.DateTimeField):
                moment = dt.datetime.fromisoformat(str(value))
                if timezone.is_aware(moment):
                    moment = timezone.make_naive(moment)
                sheet.write_datetime(at, index, moment, self._format("datetime", num_format="yyyy-mm-dd hh:mm"))
                return
            if isinstance(field, serializers.DateField):
                day = dt.date.fromisoformat(str(value))
                sheet.write_datetime(at, index, day, self._format("date", num_format="yyyy-mm-dd"))
                return
            if isinstance(field, serializers.IntegerField) and not isinstance(value, bool):
                sheet.write_number(at, index, int(value))
                return
            if isinstance(field, (serializers.DecimalField, serializers.FloatField)):
                number = Decimal(str(value))
                if not number.is_finite():
                    raise InvalidOperation
                money = isinstance(field, serializers.DecimalField) and field.decimal_places == 2
                shown = CURRENCY_FORMATS.get(str(currency or "")) if money else None
                cell_format = self._format(f"number-{shown}", num_format=shown or NUMBER_FORMAT)
                sheet.write_number(at, index, float(number), cell_format)
                return
        except (ValueError, TypeError, InvalidOperation, OverflowError):
            pass  # a masked or unexpected value: written as the text it is
        sheet.write_string(at, index, _text(value))

    def close(self) -> None:
        if self._pending is not None:
            self._flush_pending()
        if self.columns:
            self.sheet.autofilter(0, 0, max(self.rows, 1), len(self.columns) - 1)
        self.book.close()


def _display(value: Any, field: Any) -> str:
    if value is None:
        return ""
    if isinstance(field, serializers.ChoiceField) and not isinstance(field, serializers.MultipleChoiceField):
        return str(field.choices.get(value, value))
    if isinstance(field, serializers.DateTimeField):
        return "0000-00-00 00:00"
    return _text(value)


def _width(text: str) -> int:
    """Roughly how many columns of Excel's width the text needs (CJK characters are two)."""
    return sum(2 if ord(character) > 0x2E80 else 1 for character in text[:120])


def _sheet_title(title: str) -> str:
    """A worksheet name Excel accepts: at most 31 characters, none of ``[]:*?/\\``."""
    cleaned = "".join("_" if character in "[]:*?/\\" else character for character in title).strip("'")
    return cleaned[:31] or "Sheet1"
