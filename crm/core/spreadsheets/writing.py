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
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import IO, Any

import xlsxwriter
from django.http import FileResponse
from django.utils import timezone
from rest_framework import serializers

#: The media type of an Excel workbook.
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
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


class XlsxBook:
    """A new workbook written in constant memory; ``sheet`` adds a worksheet to it.

    With ``constant_memory`` a sheet's rows are written in order, one sheet after the
    other: finish a sheet before adding the next.
    """

    def __init__(self, target: str | IO[bytes]) -> None:
        self.book = xlsxwriter.Workbook(
            target,
            {
                "constant_memory": True,
                # Text stays text: never a formula, a link or a number by its look.
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
                "remove_timezone": True,
                # A sheet of a million rows is more than the 2 GB a plain zip member
                # holds; Python's zipfile adds the ZIP64 records only to a file that
                # needs them, so smaller workbooks are unchanged.
                "use_zip64": True,
            },
        )
        self._formats: dict[str, Any] = {}
        self._titles: set[str] = set()

    def format(self, key: str, **properties: Any) -> Any:
        if key not in self._formats:
            self._formats[key] = self.book.add_format(properties)
        return self._formats[key]

    def sheet(self, title: str, columns: Sequence[tuple[str, str, Any]]) -> XlsxSheet:
        name = _sheet_title(title)
        while name.lower() in self._titles:
            name = _sheet_title(f"{name[:28]} {len(self._titles) + 1}")
        self._titles.add(name.lower())
        return XlsxSheet(self, self.book.add_worksheet(name), columns)

    def close(self) -> None:
        self.book.close()


class XlsxSheet:
    """One list written as one worksheet: ``write`` rows, then ``close``.

    ``columns`` are ``(name, header, field)``: the key of the value in each row, the
    header people read, and the serializer field that rendered it (``None`` for text).
    Standing alone (``XlsxSheet.new``), it is the only sheet of its own workbook.
    """

    def __init__(self, book: XlsxBook, sheet: Any, columns: Sequence[tuple[str, str, Any]]) -> None:
        self.book = book
        self.sheet = sheet
        self.columns = list(columns)
        self.rows = 0
        self._own_book = False
        self._widths = [min(max(_width(header), 8), 60) for _name, header, _field in self.columns]
        self._pending: list[Mapping[str, Any]] | None = []
        header_format = book.format("header", bold=True, bg_color="#F2F2F2", bottom=1)
        for index, (_name, header, _field) in enumerate(self.columns):
            self.sheet.write_string(0, index, header, header_format)
        self.sheet.freeze_panes(1, 0)

    @classmethod
    def new(cls, target: str | IO[bytes], *, title: str, columns: Sequence[tuple[str, str, Any]]) -> XlsxSheet:
        book = XlsxBook(target)
        sheet = book.sheet(title, columns)
        sheet._own_book = True
        return sheet

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
        pending, self._pending = self._pending or [], None
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
            write_cell(self.book, self.sheet, self.rows, index, row.get(name), field, currency)

    def close(self) -> None:
        if self._pending is not None:
            self._flush_pending()
        if self.columns:
            self.sheet.autofilter(0, 0, max(self.rows, 1), len(self.columns) - 1)
        if self._own_book:
            self.book.close()


def write_record(book: XlsxBook, title: str, columns: Sequence[tuple[str, str, Any]], row: Mapping[str, Any]) -> None:
    """One record as a sheet of its own, a field per line: its name, then its value."""
    sheet = book.book.add_worksheet(_sheet_title(title))
    book._titles.add(_sheet_title(title).lower())
    label_format = book.format("label", bold=True, bg_color="#F2F2F2")
    sheet.set_column(0, 0, min(max((_width(header) for _n, header, _f in columns), default=8), 40) + 2)
    sheet.set_column(1, 1, min(max((_width(_display(row.get(n), f)) for n, _h, f in columns), default=8), 80) + 2)
    for at, (name, header, field) in enumerate(columns):
        sheet.write_string(at, 0, header, label_format)
        write_cell(book, sheet, at, 1, row.get(name), field, row.get("currency"))


def write_cell(book: XlsxBook, sheet: Any, at: int, index: int, value: Any, field: Any, currency: Any) -> None:
    """One value in the cell type its serializer field says; text when it does not parse
    (a masked value, say), and always text rather than a formula."""
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
            sheet.write_datetime(at, index, moment, book.format("datetime", num_format="yyyy-mm-dd hh:mm"))
            return
        if isinstance(field, serializers.DateField):
            day = dt.date.fromisoformat(str(value))
            sheet.write_datetime(at, index, day, book.format("date", num_format="yyyy-mm-dd"))
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
            sheet.write_number(
                at, index, float(number), book.format(f"number-{shown}", num_format=shown or NUMBER_FORMAT)
            )
            return
    except (ValueError, TypeError, InvalidOperation, OverflowError):
        pass  # a masked or unexpected value: written as the text it is
    sheet.write_string(at, index, _text(value))


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


def xlsx_download(write: Callable[[IO[bytes]], Any], filename: str) -> FileResponse:
    """A workbook that ``write`` puts into a temporary file, sent as a download called
    ``filename``: written in constant memory, and the file goes away once it is sent."""
    target = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it once sent
    write(target)
    target.seek(0)
    return FileResponse(target, as_attachment=True, filename=filename, content_type=XLSX)
