"""Reading the files people bring: ``.xlsx``, ``.xls``, ``.csv`` and ``.txt``.

What a file holds comes back as tables (one per sheet that has rows), each with its
headers and its rows numbered as the user sees them in Excel, so that every error can
name its row and column.

- **Workbooks** are read with python-calamine (Rust; many times faster than openpyxl and
  reads ``.xls`` too).  A formula cell reads as the value Excel last computed; macros are
  never run (they are not even read).  Before a byte is parsed, an ``.xlsx`` is checked as
  the zip it is: a file that unpacks to far more than it weighs (a decompression bomb),
  or holds an absurd number of parts, is refused; a password-protected workbook is named
  as such.
- **CSV** is decoded by its byte-order mark, else as strict UTF-8, else by
  charset-normalizer among the encodings Chinese offices write (GB18030 first: Excel on a
  Chinese Windows saves CSV in it); the guess comes back with the table so the preview
  can show it, and the caller may override it.  The delimiter is sniffed.
- **Headers** are found, not assumed: the row among the first ten that looks most like
  headers (most cells that ``is_header`` knows, most text, fewest numbers); merged header
  cells spread their text over the columns they cover, and a second header row under a
  merged group (联系方式 over 手机 and 电话) names the columns it has text for.

Limits are settings: ``CRM_IMPORT_MAX_BYTES`` (50 MB) and ``CRM_IMPORT_MAX_ROWS``.  Every
refusal is a :class:`~crm.core.errors.DomainError` in the user's language, never a 500.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import python_calamine
from charset_normalizer import from_bytes
from django.conf import settings
from django.utils.translation import gettext as _

from ..errors import DomainError

#: File extensions by the reader that takes them.
WORKBOOKS = (".xlsx", ".xlsm", ".xls")
TEXTS = (".csv", ".txt")
#: How far down the header row is looked for.
HEADER_SEARCH = 10
#: An xlsx unpacking to more than this many times its own size, or to more than the
#: absolute limit, is refused before it is parsed.
MOST_UNPACKED_RATIO = 100
MOST_UNPACKED_BYTES = 1_000_000_000
MOST_PARTS = 10_000
#: How many bytes of a text file are read to guess its encoding and delimiter.
SAMPLE_BYTES = 256 * 1024
#: The encodings tried after UTF-8, most likely first.
LIKELY_ENCODINGS = ["gb18030", "big5", "utf_16", "shift_jis", "euc_kr", "cp1252"]
_OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_SIGNATURE = b"PK\x03\x04"


def max_bytes() -> int:
    return int(getattr(settings, "CRM_IMPORT_MAX_BYTES", 50 * 1024 * 1024))


def max_rows() -> int:
    return int(getattr(settings, "CRM_IMPORT_MAX_ROWS", 1_000_000))


@dataclass
class Table:
    """One sheet (or the CSV file) as headers and numbered rows."""

    name: str
    headers: list[str]
    #: The row number (as in Excel, from 1) of the last header row; data starts below it.
    header_row: int
    #: The first rows, already read (the preview shows them); ``rows()`` gives them all.
    head: list[tuple[int, list[Any]]]
    _rest: Iterator[tuple[int, list[Any]]] = field(repr=False)

    def rows(self) -> Iterator[tuple[int, list[Any]]]:
        """Every data row as (its row number, its values by column), blank rows left out.
        Read once: the rows after the preview stream from the file."""
        yield from self.head
        yield from self._rest


@dataclass
class Source:
    """What one file holds: its format, how a text file was decoded, and its tables."""

    format: str
    tables: list[Table]
    encoding: str | None = None
    #: How sure the encoding guess is (1.0: a byte-order mark or valid UTF-8).
    encoding_confidence: float | None = None
    delimiter: str | None = None


def read_file(
    path: str | Path,
    *,
    filename: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    is_header: Callable[[str], bool] | None = None,
    preview: int = 10,
) -> Source:
    """Open ``path`` (named ``filename`` by the user) and find its tables.

    ``encoding`` and ``delimiter`` override the guesses for a text file; ``is_header``
    says whether a cell's text is a header the importer knows, which finds the header
    row; ``preview`` rows of each table are read at once.
    """
    path = Path(path)
    name = filename or path.name
    suffix = Path(name).suffix.lower()
    size = path.stat().st_size
    if size > max_bytes():
        raise DomainError(_("The file is larger than %(most)d MB.") % {"most": max_bytes() // (1024 * 1024)})
    if size == 0:
        raise DomainError(_("The file is empty."))
    with path.open("rb") as handle:
        start = handle.read(8)
    known = is_header or (lambda _text: False)
    if suffix in TEXTS:
        return _read_text(path, name, encoding=encoding, delimiter=delimiter, is_header=known, preview=preview)
    if suffix not in WORKBOOKS:
        raise DomainError(_("Only .xlsx, .xls, .csv and .txt files can be imported."))
    if start.startswith(_OLE_SIGNATURE) and suffix != ".xls":
        # An .xlsx in an OLE container is an encrypted package: Excel's password protection.
        raise DomainError(_("This workbook is protected by a password; save a copy without one and upload that."))
    if start.startswith(_ZIP_SIGNATURE):
        _check_zip(path, size)
    elif suffix != ".xls" or not start.startswith(_OLE_SIGNATURE):
        raise DomainError(_("This file is not the workbook its name says; save it again from Excel."))
    return _read_workbook(path, suffix, is_header=known, preview=preview)


# --------------------------------------------------------------------- workbooks
def _check_zip(path: Path, size: int) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise DomainError(_("This file could not be read as a workbook; save it again from Excel.")) from exc
    unpacked = sum(part.file_size for part in parts)
    if len(parts) > MOST_PARTS or unpacked > min(MOST_UNPACKED_BYTES, max(size, 1) * MOST_UNPACKED_RATIO):
        raise DomainError(
            _("This workbook unpacks to far more than its size, as a decompression bomb does; it is refused.")
        )
    if any(part.flag_bits & 0x1 for part in parts):
        raise DomainError(_("This workbook is protected by a password; save a copy without one and upload that."))


def _read_workbook(path: Path, suffix: str, *, is_header: Callable[[str], bool], preview: int) -> Source:
    try:
        book = python_calamine.CalamineWorkbook.from_path(str(path))
    except python_calamine.PasswordError as exc:
        raise DomainError(
            _("This workbook is protected by a password; save a copy without one and upload that.")
        ) from exc
    except (python_calamine.CalamineError, ValueError, OSError) as exc:
        raise DomainError(_("This file could not be read as a workbook; save it again from Excel.")) from exc
    tables = []
    for name in book.sheet_names:
        try:
            sheet = book.get_sheet_by_name(name)
            rows = sheet.iter_rows()
            merged = list(sheet.merged_cell_ranges or []) if suffix != ".xls" else []
        except (python_calamine.CalamineError, ValueError) as exc:
            raise DomainError(
                _("The sheet %(sheet)s could not be read; save the workbook again from Excel.") % {"sheet": name}
            ) from exc
        # Rows come from the sheet's first row, whatever is empty above the data.
        table = _table(name, _numbered(rows), merged=merged, is_header=is_header, preview=preview)
        if table is not None:
            tables.append(table)
    if not tables:
        raise DomainError(_("The workbook holds no rows."))
    return Source(format=suffix.lstrip("."), tables=tables)


def _numbered(rows: Any) -> Iterator[tuple[int, list[Any]]]:
    for index, row in enumerate(rows):
        yield index + 1, [_clean(value) for value in row]


def _clean(value: Any) -> Any:
    """A cell's value as the importer reads it: empty text is nothing, text is stripped."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, dt.timedelta):
        return None if not value else value
    return value


# --------------------------------------------------------------------- text files
def detect_encoding(sample: bytes, *, truncated: bool = False) -> tuple[str, float]:
    """The encoding of a text file's first bytes, and how sure the guess is.

    A byte-order mark decides; else text that is valid UTF-8 is UTF-8; else GB18030 (what
    Excel writes on a Chinese Windows) when it decodes; else charset-normalizer's best
    among the other likely encodings.  ``truncated`` says the sample was cut from a longer
    file, so a character cut at its very end is no evidence against an encoding.
    """
    for mark, name in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if sample.startswith(mark):
            return name, 1.0
    if _decodes(sample, "utf-8", truncated):
        return "utf-8", 1.0
    if _decodes(sample, "gb18030", truncated):
        return "gb18030", 0.9
    best = from_bytes(sample, cp_isolation=LIKELY_ENCODINGS).best()
    if best is None:
        return "gb18030", 0.0
    name = codecs.lookup(best.encoding).name
    return ("gb18030" if name in ("gbk", "gb2312", "hz") else name), round(1.0 - float(best.chaos), 2)


def _decodes(sample: bytes, encoding: str, truncated: bool) -> bool:
    try:
        sample.decode(encoding)
    except UnicodeDecodeError as exc:
        return truncated and exc.start >= len(sample) - 4
    return True


def _read_text(
    path: Path,
    name: str,
    *,
    encoding: str | None,
    delimiter: str | None,
    is_header: Callable[[str], bool],
    preview: int,
) -> Source:
    with path.open("rb") as binary:
        sample = binary.read(SAMPLE_BYTES)
    confidence = 1.0
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError as exc:
            raise DomainError(_("Unknown encoding: %(name)s.") % {"name": encoding[:40]}) from exc
    else:
        encoding, confidence = detect_encoding(sample, truncated=len(sample) == SAMPLE_BYTES)
    try:
        text_sample = sample.decode(encoding, errors="ignore")
    except (LookupError, ValueError) as exc:
        raise DomainError(_("Unknown encoding: %(name)s.") % {"name": encoding[:40]}) from exc
    if delimiter is None:
        delimiter = _sniff(text_sample)
    elif len(delimiter) != 1:
        raise DomainError(_("A delimiter is one character."))
    text = path.open("r", encoding=encoding, errors="strict", newline="")
    table = _table(name, _csv_rows(text, delimiter, encoding), merged=[], is_header=is_header, preview=preview)
    if table is None:
        text.close()
        raise DomainError(_("The file holds no rows."))
    return Source(format="csv", tables=[table], encoding=encoding, encoding_confidence=confidence, delimiter=delimiter)


def _sniff(sample: str) -> str:
    lines = "\n".join(sample.splitlines()[:20])
    try:
        return csv.Sniffer().sniff(lines, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def _csv_rows(handle: TextIO, delimiter: str, encoding: str) -> Iterator[tuple[int, list[Any]]]:
    with handle:
        reader = csv.reader(handle, delimiter=delimiter)
        try:
            for row in reader:
                yield reader.line_num, [_clean(value) for value in row]
        except UnicodeDecodeError as exc:
            raise DomainError(
                _("Line %(line)d is not %(encoding)s text; choose the file's encoding.")
                % {"line": reader.line_num + 1, "encoding": encoding}
            ) from exc
        except csv.Error as exc:
            raise DomainError(_("Line %(line)d is not valid CSV.") % {"line": reader.line_num}) from exc


# --------------------------------------------------------------------- headers
def _table(
    name: str,
    rows: Iterator[tuple[int, list[Any]]],
    *,
    merged: list[Any],
    is_header: Callable[[str], bool],
    preview: int,
) -> Table | None:
    """Find the header row among the first rows, then give the rest as data."""
    top: list[tuple[int, list[Any]]] = []
    for number, values in rows:
        if any(value is not None for value in values):
            top.append((number, values))
        if len(top) >= HEADER_SEARCH:
            break
    if not top:
        return None
    _spread_merged(top, merged)
    best = max(range(len(top)), key=lambda index: (_header_score(top[index][1], is_header), -index))
    header_number, header_values = top[best]
    headers = [str(value) if value is not None else "" for value in header_values]
    below = best + 1
    if below < len(top) and _is_sub_header(top[below][1], header_values, is_header):
        sub = top[below][1]
        headers = [
            str(sub[index]) if index < len(sub) and sub[index] is not None else header
            for index, header in enumerate(headers + [""] * max(0, len(sub) - len(headers)))
        ]
        header_number = top[below][0]
        below += 1
    width = max(len(headers), 1)
    headers = [header.strip() for header in headers] + [""] * (width - len(headers))
    data = top[below:]
    head: list[tuple[int, list[Any]]] = [(number, _fit(values, width)) for number, values in data[:preview]]
    kept = data[preview:]

    def rest() -> Iterator[tuple[int, list[Any]]]:
        count = len(head)
        for number, values in kept:
            yield number, _fit(values, width)
        count += len(kept)
        for number, values in rows:
            if not any(value is not None for value in values):
                continue
            count += 1
            if count > max_rows():
                raise DomainError(_("The file has more than %(most)d rows; split it.") % {"most": max_rows()})
            yield number, _fit(values, width)

    return Table(name=name, headers=headers, header_row=header_number, head=head, _rest=rest())


def _fit(values: list[Any], width: int) -> list[Any]:
    return values[:width] + [None] * (width - len(values))


def _header_score(values: list[Any], is_header: Callable[[str], bool]) -> tuple[int, int]:
    texts = [value for value in values if isinstance(value, str)]
    numbers = sum(1 for value in values if isinstance(value, (int, float, dt.date)) and not isinstance(value, bool))
    known = sum(1 for text in texts if is_header(text))
    return known * 3 + len(texts) - numbers * 3, len(texts)


def _is_sub_header(values: list[Any], above: list[Any], is_header: Callable[[str], bool]) -> bool:
    """A row of text only, naming columns under a merged group of the header row above
    (the group's columns repeat its text after spreading)."""
    texts = [value for value in values if value is not None]
    if not texts or not all(isinstance(value, str) for value in texts):
        return False
    repeated = any(
        index + 1 < len(above) and above[index] is not None and above[index] == above[index + 1]
        for index in range(len(above))
    )
    return repeated and sum(1 for text in texts if is_header(text)) >= max(1, len(texts) // 2)


def _spread_merged(top: list[tuple[int, list[Any]]], merged: list[Any]) -> None:
    """Give every cell of a merged area in the header rows its top-left cell's text."""
    by_number = {number: values for number, values in top}
    for area in merged:
        try:
            (first_row, first_col), (last_row, last_col) = area
        except (TypeError, ValueError):
            continue
        source = by_number.get(first_row + 1)
        if source is None or first_col >= len(source):
            continue
        text = source[first_col]
        for row in range(first_row, last_row + 1):
            values = by_number.get(row + 1)
            if values is None:
                continue
            values.extend([None] * (last_col + 1 - len(values)))
            for col in range(first_col, last_col + 1):
                if values[col] is None:
                    values[col] = text
