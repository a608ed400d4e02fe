"""Making sense of the values people type into a spreadsheet, one cell at a time.

People type values the way they speak: ``¥1.2万``, ``(300)``, ``2023年3月1日``,
``+86 138 0013 8000``, ``已付款``, ``√``, ``浙江杭州``.  Each parser here takes a cell as
the spreadsheet reader gives it (a ``str``, ``int``, ``float``, ``Decimal``, ``bool``,
``date``, ``datetime``, ``time`` or ``None``) and returns a :class:`Parsed`: the value,
or an error in words for the person importing (translated when it is shown).  A parser
never raises for what a person typed.

The rules every parser keeps:

* An empty cell (``None``, or only spaces) is no value and no error: ``Parsed()``.
  Whether a value is required is the importer's rule, not the parser's.
* Full-width digits, letters and punctuation (``１２，０００``) read as their ASCII forms
  (text keeps its Chinese punctuation: see :func:`parse_text`).
* A float from the reader is read as Excel shows it, to 15 significant digits, so
  ``0.1 + 0.2`` is ``0.3`` and ``13800138000.0`` is ``13800138000``.
* An error quotes what was typed (cut to 40 characters), so the person can find it.

The parsers: :func:`parse_money`, :func:`parse_number`, :func:`parse_date` (with
:func:`date_order` for a whole column), :func:`parse_phone` (with :func:`phone_kind`),
:func:`parse_choice`, :func:`parse_bool`, :func:`parse_place` and :func:`parse_text`.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any, Generic, Literal, TypeVar, overload

from django.db import models
from django.utils import translation
from django.utils.functional import Promise, lazy
from django.utils.translation import gettext_lazy as _

from crm.core.validation import control_characters, date_range

__all__ = [
    "Cell",
    "ChoiceList",
    "DateOrder",
    "Parsed",
    "Phone",
    "PhoneKind",
    "Place",
    "choice_lookup",
    "choice_value",
    "date_order",
    "parse_bool",
    "parse_choice",
    "parse_date",
    "parse_money",
    "parse_number",
    "parse_phone",
    "parse_place",
    "parse_text",
    "phone_kind",
]

#: What a spreadsheet reader gives for one cell.
Cell = str | int | float | Decimal | bool | dt.date | dt.datetime | dt.time | None
#: How the dates of a column are written: year first, day first, month first, or unclear.
DateOrder = Literal["dmy", "mdy", "ambiguous", "ymd"]
PhoneKind = Literal["mobile", "landline"]
T = TypeVar("T")


@dataclass(frozen=True)
class Parsed(Generic[T]):
    """What a cell holds: a ``value``, or an ``error`` in words (never both).

    ``Parsed()`` (no value, no error) is an empty cell.  ``unit`` is the unit typed after
    a number (``分``, ``次/年``, ``%``) for :func:`parse_number`, empty otherwise.
    """

    value: T | None = None
    error: str | None = None
    unit: str = ""

    @property
    def ok(self) -> bool:
        """Whether the cell could be read (an empty cell can)."""
        return self.error is None

    @property
    def empty(self) -> bool:
        """Whether the cell holds nothing at all."""
        return self.value is None and self.error is None


@dataclass(frozen=True)
class Phone:
    """A phone number as the CRM stores it.

    ``kind`` is ``"mobile"`` for a mainland mobile number and ``"landline"`` for every
    other number: a fixed line, a 400/800 or short service number, a foreign number.
    """

    number: str
    kind: PhoneKind


@dataclass(frozen=True)
class Place:
    """A place in China: the canonical province (``浙江省``), city (``杭州市``, or empty
    when only the province is known) and macro-region (``customers.choices.Region``)."""

    province: str
    city: str
    region: str


# ------------------------------------------------------------------ shared helpers
#: Full-width ASCII (U+FF01..U+FF5E) and the ideographic space, as ASCII; the full-width
#: yen sign as the yen sign.
_HALF_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20, 0xFFE5: 0xA5}
#: Only full-width digits and letters: text keeps the Chinese punctuation it was written with.
_HALF_WIDTH_ALNUM = {
    code: code - 0xFEE0
    for start, end in ((0xFF10, 0xFF19), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A))
    for code in range(start, end + 1)
} | {0x3000: 0x20}
_SPACES = re.compile(r"\s+")
_MINUS = "-\u2212"  # the hyphen-minus and the minus sign
_QUOTE_LENGTH = 40


def _say(message: Any, **params: Any) -> str:
    """``message`` with its ``%(name)s`` placeholders filled, translated when it is shown
    rather than now, so a message made during an import reads in the viewer's language.
    A list parameter is shown as its items joined by `` / ``."""

    def render() -> str:
        shown = {
            name: " / ".join(str(item) for item in value) if isinstance(value, list | tuple) else value
            for name, value in params.items()
        }
        return str(message) % {
            name: str(value) if isinstance(value, Promise) else value for name, value in shown.items()
        }

    return lazy(render, str)()


def _quote(raw: Cell) -> str:
    """What was typed, cut to a length a message can quote."""
    text = raw.isoformat() if isinstance(raw, dt.date | dt.time) else str(raw)
    text = _SPACES.sub(" ", text).strip()
    return text if len(text) <= _QUOTE_LENGTH else text[: _QUOTE_LENGTH - 1] + "…"


def _refuse(message: Any, raw: Cell, **params: Any) -> Parsed[Any]:
    return Parsed(error=_say(message, value=_quote(raw), **params))


def _blank(raw: Cell) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.translate(_HALF_WIDTH).strip())


def _compact(raw: str) -> str:
    """``raw`` in ASCII where it has full-width forms, without any white space."""
    return _SPACES.sub("", raw.translate(_HALF_WIDTH))


def _float_digits(value: float) -> Decimal | None:
    """A float as Excel shows it (15 significant digits), or ``None`` when not finite."""
    if not math.isfinite(value):
        return None
    return Decimal(f"{value:.15g}")


def _number(raw: Cell) -> Decimal | None:
    """A number the reader gave (not a bool), or ``None`` for anything else."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return Decimal(raw)
    if isinstance(raw, float):
        return _float_digits(raw)
    if isinstance(raw, Decimal):
        return raw if raw.is_finite() else None
    return None


#: A number as typed: digits with optional thousands commas (in threes) and decimals.
_NUMBER = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+"


# ------------------------------------------------------------------ money
MONEY_DIGITS = 14
_CENT = Decimal("0.01")
#: Currency words around an amount of yuan (compared in lower case).
_YUAN_BEFORE = ("人民币", "rmb", "cny", "¥")
_YUAN_AFTER = ("人民币", "rmb", "cny", "元", "圆")
#: Words for a power of ten after a number; longer first, so 千万 is not read as 千.
_MONEY_MULTIPLIERS = (("千万", 10**7), ("百万", 10**6), ("亿", 10**8), ("万", 10**4), ("千", 10**3))
_MONEY_MULTIPLIERS_LATIN = (("k", 10**3), ("w", 10**4))
_MONEY = re.compile(rf"(?:{_NUMBER})")


def _strip_yuan(text: str) -> str:
    for word in _YUAN_BEFORE:
        if text.startswith(word):
            text = text[len(word) :]
            break
    for word in _YUAN_AFTER:
        if text.endswith(word):
            text = text[: -len(word)]
            break
    return text


def parse_money(raw: Cell) -> Parsed[Decimal]:
    """An amount of money, in yuan, to the fen (2 places, half up).

    Read: ``¥10,000``, ``￥10,000.50``, ``10,000元``, ``RMB 5,000``, ``CNY 5000``, ``人民币5000``;
    ``1.2万`` (12,000), ``3.5万元``, ``1.5亿`` (150,000,000), ``5千``, ``2百万``, ``1千万``,
    and the shorthand ``10k`` (10,000) and ``1.2w`` (12,000); ``-300``, ``¥-300``, and
    ``(300)`` for a negative amount as accountants write it; full-width digits and
    punctuation; spaces anywhere; numbers the reader gives.  Thousands commas must come
    in threes (``1,2345`` is refused, as ``1.234,56`` is: neither reads one way only).

    Refused: anything else (``abc``, ``1.2.3``, ``¥``, ``NaN``, ``inf``, ``1e400``: an
    exponent is not how people write money), another currency's sign (the currency is a
    column of its own), and an amount of more than 14 digits before the decimal point.
    """
    if _blank(raw):
        return Parsed()
    if isinstance(raw, str):
        amount = _money_from_text(raw)
    else:
        amount = _number(raw)
    if amount is None:
        return _refuse(_("Not an amount of money: %(value)s"), raw)
    if abs(amount) >= 10**MONEY_DIGITS:
        return _refuse(_("At most %(digits)s digits before the decimal point: %(value)s"), raw, digits=MONEY_DIGITS)
    amount = amount.quantize(_CENT, rounding=ROUND_HALF_UP)
    if abs(amount) >= 10**MONEY_DIGITS:  # 99999999999999.999 rounds up to 15 digits
        return _refuse(_("At most %(digits)s digits before the decimal point: %(value)s"), raw, digits=MONEY_DIGITS)
    return Parsed(abs(amount) if amount == 0 else amount)


def _money_from_text(raw: str) -> Decimal | None:
    text = _strip_yuan(_compact(raw).casefold())
    negative = False
    if text[:1] in _MINUS:
        negative, text = True, text[1:]
    elif text[:1] == "+":
        text = text[1:]
    elif text[:1] == "(" and text[-1:] == ")":
        negative, text = True, text[1:-1]
    text = _strip_yuan(text)
    multiplier = 1
    for word, power in _MONEY_MULTIPLIERS + _MONEY_MULTIPLIERS_LATIN:
        if text.endswith(word):
            text, multiplier = text[: -len(word)], power
            break
    if not _MONEY.fullmatch(text):
        return None
    amount = Decimal(text.replace(",", "")) * multiplier
    return -amount if negative else amount


# ------------------------------------------------------------------ numbers
NUMBER_DIGITS = 15
#: Words for a power of ten that may start a unit (``1.2万人``).  Not 千: ``千克`` is a unit.
_NUMBER_MULTIPLIERS = (("千万", 10**7), ("百万", 10**6), ("亿", 10**8), ("万", 10**4))
_LETTERS = r"[^\W\d_]"
_NUMBER_WITH_UNIT = re.compile(
    rf"(?P<sign>[-+\u2212]?)(?P<number>{_NUMBER})(?P<unit>%|‰|{_LETTERS}{{1,10}}(?:/{_LETTERS}{{1,10}})?)?"
)


@overload
def parse_number(raw: Cell, whole: Literal[False] = False) -> Parsed[Decimal]: ...
@overload
def parse_number(raw: Cell, whole: Literal[True]) -> Parsed[int]: ...
def parse_number(raw: Cell, whole: bool = False) -> Parsed[Decimal] | Parsed[int]:
    """A count or a measure, with the unit people write after it dropped into ``unit``.

    Read: ``3分``, ``4.5分``, ``5次/年``, ``5次``, ``2年``, ``3个月`` (3, unit ``个月``),
    ``1,200``, ``-2``, ``１２``, and ``1.2万人`` (12,000, unit ``人``: 万, 亿, 百万 and
    千万 multiply).  A percentage is the number written: ``80%`` is 80, unit ``%`` (not
    0.8), as a score or a rate is entered in percent.  With ``whole`` the value is an
    ``int`` and a fraction (``4.5``) is refused; ``4.0`` is 4.

    Refused: no number (``abc``), two points (``1.2.3``), an exponent, a unit with
    digits in it, more than 15 digits before the decimal point.
    """
    if _blank(raw):
        return Parsed()
    unit = ""
    if isinstance(raw, str):
        match = _NUMBER_WITH_UNIT.fullmatch(_compact(raw))
        if match is None:
            return _refuse(_("Not a number: %(value)s"), raw)
        number = Decimal(match["number"].replace(",", ""))
        if match["sign"] and match["sign"] != "+":
            number = -number
        unit = match["unit"] or ""
        for word, power in _NUMBER_MULTIPLIERS:
            if unit.startswith(word):
                number, unit = number * power, unit[len(word) :]
                break
    else:
        found = _number(raw)
        if found is None:
            return _refuse(_("Not a number: %(value)s"), raw)
        number = found
    if abs(number) >= 10**NUMBER_DIGITS:
        return _refuse(_("At most %(digits)s digits before the decimal point: %(value)s"), raw, digits=NUMBER_DIGITS)
    if number == 0:
        number = abs(number)
    if whole:
        if number != number.to_integral_value():
            return _refuse(_("Not a whole number: %(value)s"), raw)
        return Parsed(int(number), unit=unit)
    return Parsed(number, unit=unit)


# ------------------------------------------------------------------ dates
#: Excel counts days from 1899-12-30 (serial 1 is 1900-01-01), and counts a 1900-02-29
#: that never was as serial 60; serials below 60 are therefore one day later.
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_EXCEL_FAKE_LEAP_DAY = 60
_LAST_SERIAL = (dt.date.max - _EXCEL_EPOCH).days
#: A time of day after a date, which a date column drops.
_TIME = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
_YEAR_FIRST = re.compile(rf"(?P<year>\d{{4}})(?P<sep>[-/.])(?P<month>\d{{1,2}})(?:(?P=sep)(?P<day>\d{{1,2}}))?{_TIME}")
_CHINESE_DATE = re.compile(rf"(?P<year>\d{{4}})年(?P<month>\d{{1,2}})月(?:(?P<day>\d{{1,2}})[日号])?{_TIME}")
_EIGHT_DIGITS = re.compile(r"(?P<year>\d{4})(?P<month>\d{2})(?P<day>\d{2})")
_YEAR_LAST = re.compile(
    rf"(?P<first>\d{{1,2}})(?P<sep>[-/.])(?P<second>\d{{1,2}})(?P=sep)(?P<year>\d{{4}}|\d{{2}}){_TIME}"
)


def _date_text(raw: str) -> str:
    """A date as typed, in ASCII, with single spaces (none around 年, 月 and 日)."""
    text = _SPACES.sub(" ", raw.translate(_HALF_WIDTH)).strip()
    return re.sub(r" ?([年月日号]) ?", r"\1", text)


def _full_year(year: str) -> int:
    """A year as typed; two digits follow Excel: 00-29 are 2000-2029, 30-99 are 1930-1999."""
    if len(year) == 4:
        return int(year)
    return int(year) + (2000 if int(year) < 30 else 1900)


def parse_date(raw: Cell, order: DateOrder | None = None) -> Parsed[dt.date]:
    """A day between ``CRM_DATE_MIN`` and ``CRM_DATE_MAX`` (1900-01-01 and 2199-12-31), as
    every other channel takes dates.

    Read: ``2023-03-01``, ``2023/3/1``, ``2023.3.1``, ``2023年3月1日`` (or 号),
    ``2023年3月`` and ``2023-03`` (the first of the month), ``20230301``, a time after the
    date (dropped), ``date`` and ``datetime`` values, and Excel serial numbers (44986 is
    2023-03-01; see ``_EXCEL_EPOCH``).

    A date with the year last (``1/3/2023``, ``01-03-2023``, ``3/1/23``) is read in the
    ``order`` of its column, ``"dmy"`` or ``"mdy"`` (found by :func:`date_order`).
    Without one it is read only when one reading alone is a real day (``13/3/2023``) or
    both readings give the same day (``3/3/2023``); otherwise the day and month order is
    unclear and the person is asked.  Two-digit years follow Excel (``23`` is 2023, ``30``
    is 1930).

    Refused: a day that does not exist (``2023-02-30``, serial 60, Excel's 1900-02-29),
    a day outside those limits (a typing mistake), a time alone, anything else.
    """
    if _blank(raw):
        return Parsed()
    if isinstance(raw, dt.datetime):
        return _in_range(raw.date(), raw)
    if isinstance(raw, dt.date):
        return _in_range(raw, raw)
    if isinstance(raw, str):
        return _date_from_text(raw, order)
    serial = _number(raw)
    if serial is None:
        return _refuse(_("Not a date: %(value)s"), raw)
    return _date_from_serial(serial, raw)


def _in_range(day: dt.date, raw: Cell) -> Parsed[dt.date]:
    earliest, latest = date_range()
    if earliest <= day <= latest:
        return Parsed(day)
    return _range_error(raw)


def _range_error(raw: Cell) -> Parsed[Any]:
    earliest, latest = date_range()
    return _refuse(
        _("A date must lie between %(earliest)s and %(latest)s: %(value)s"),
        raw,
        earliest=earliest.isoformat(),
        latest=latest.isoformat(),
    )


def _day(year: int, month: int, day: int, raw: Cell) -> Parsed[dt.date]:
    try:
        found = dt.date(year, month, day)
    except ValueError:
        return _refuse(_("No such day: %(value)s"), raw)
    return _in_range(found, raw)


def _date_from_serial(number: Decimal, raw: Cell) -> Parsed[dt.date]:
    """The day of an Excel serial number; a fraction is the time of day, dropped."""
    if number < 1:
        return _refuse(_("Not a date: %(value)s"), raw)
    if number >= _LAST_SERIAL:
        return _range_error(raw)
    serial = int(number.to_integral_value(rounding=ROUND_FLOOR))
    if serial == _EXCEL_FAKE_LEAP_DAY:
        return _refuse(_("No such day: %(value)s"), raw)
    day = _EXCEL_EPOCH + dt.timedelta(days=serial if serial > _EXCEL_FAKE_LEAP_DAY else serial + 1)
    return _in_range(day, raw)


def _date_from_text(raw: str, order: DateOrder | None) -> Parsed[dt.date]:
    text = _date_text(raw)
    for pattern in (_YEAR_FIRST, _CHINESE_DATE, _EIGHT_DIGITS):
        match = pattern.fullmatch(text)
        if match:
            return _day(int(match["year"]), int(match["month"]), int(match["day"] or 1), raw)
    match = _YEAR_LAST.fullmatch(text)
    if match is None:
        return _refuse(_("Not a date: %(value)s"), raw)
    year, first, second = _full_year(match["year"]), int(match["first"]), int(match["second"])
    if order == "dmy":
        return _day(year, second, first, raw)
    if order == "mdy":
        return _day(year, first, second, raw)
    readings = [_day(year, second, first, raw), _day(year, first, second, raw)]
    days = {reading.value for reading in readings if reading.ok}
    if len(days) == 1:
        return Parsed(days.pop())
    if not days:
        return readings[0]
    return _refuse(_("Day and month order is unclear: %(value)s"), raw)


def date_order(values: Iterable[Cell]) -> DateOrder:
    """How the dates of one column are written, from all its values.

    Only dates with the year last tell: one whose first part is over 12 makes the column
    ``"dmy"`` (``13/3/2023``), one whose second part is over 12 makes it ``"mdy"``
    (``3/13/2023``).  Year-last dates that fit both readings, or that point both ways,
    make it ``"ambiguous"``, for the person to settle.  A column without year-last dates is
    ``"ymd"``.  The result can be passed to :func:`parse_date` as its ``order``.
    """
    year_last = day_first = month_first = False
    for value in values:
        if not isinstance(value, str):
            continue
        match = _YEAR_LAST.fullmatch(_date_text(value))
        if match is None:
            continue
        year_last = True
        first, second = int(match["first"]), int(match["second"])
        if first > 12 >= second:
            day_first = True
        elif second > 12 >= first:
            month_first = True
    if not year_last:
        return "ymd"
    if day_first != month_first:
        return "dmy" if day_first else "mdy"
    return "ambiguous"


# ------------------------------------------------------------------ phones
_MOBILE = re.compile(r"1[3-9]\d{9}")
_SERVICE = re.compile(r"[48]00\d{7}")
#: Short service lines: 95588 (a bank), 12345 (a city hotline), 10086 (a carrier).
_HOTLINE = re.compile(r"(?:95|96|1[0-2])\d{3}")
_LOCAL = re.compile(r"[2-9]\d{6,7}")
_EXTENSION = re.compile(r"(?:转|分机号?|extension|ext\.?|x|#)\s*:?\s*(\d{1,6})\s*$", re.IGNORECASE)
#: A foreign number as this module stores it: ``+44 2079460958-12``.
_STORED_FOREIGN = re.compile(r"\+(\d{1,3}) (\d{4,14})(?:-(\d{1,6}))?")
_PHONE_CHARACTERS = re.compile(r"\+?[\d\s().\-]+")


def parse_phone(raw: Cell) -> Parsed[Phone]:
    """A phone number, as the CRM stores it.

    * A mainland mobile (11 digits starting 13-19) is its digits: ``+86 138 0013 8000``,
      ``+86-13800138000``, ``0086 13800138000``, ``138-0013-8000`` are ``13800138000``.
    * A landline is its area code (010, 02x, or 0 and three digits), a dash and its 7 or 8
      digits: ``(021) 6123-4567``, ``021 6123 4567``, ``+86 21 6123 4567`` are
      ``021-61234567``.  An extension (``转 8001``, ``分机 8001``, ``ext 8001``, ``x8001``,
      ``#8001``, or a last group after a number that is complete without it) follows
      with a dash: ``021-61234567-8001``.  A number without its area code
      (``61234567``) is kept as it is.
    * A 400/800 service number is ``400-820-8820``; a short hotline (``95588``) its digits.
    * A foreign number keeps its country code, a space, and its digits:
      ``+1 212 555 0100`` is ``+1 2125550100``.
    * A number the reader gives (``13800138000.0``) is read as its digits; a landline
      that lost its leading 0 that way (``2161234567``) gets it back.

    Refused: letters, two numbers in one cell, a mobile with an extension, and digits
    that make no number above (``1380013800``, one digit short).
    """
    if _blank(raw):
        return Parsed()
    number = None if isinstance(raw, str) else _number(raw)
    if number is not None:
        phone = _phone_from_number(number)
    elif isinstance(raw, str):
        phone = _phone_from_text(raw)
    else:
        phone = None
    if phone is None:
        return _refuse(_("Not a phone number: %(value)s"), raw)
    return Parsed(phone)


def phone_kind(raw: Cell) -> PhoneKind | None:
    """Whether a value is a mobile or a landline number by its shape, or ``None`` when it
    is no phone number: an importer maps a 联系方式 column by it."""
    phone = parse_phone(raw).value
    return phone.kind if phone else None


def _phone_from_number(number: Decimal) -> Phone | None:
    if number != number.to_integral_value() or not 0 < number < 10**15:
        return None
    digits = str(int(number))
    return _phone_from_text(digits) or (_domestic(["0" + digits], "") if digits[0] != "1" else None)


def _phone_from_text(raw: str) -> Phone | None:
    text = raw.translate(_HALF_WIDTH).strip()
    extension = ""
    found = _EXTENSION.search(text)
    if found:
        text, extension = text[: found.start()].strip(), found[1]
    if not _PHONE_CHARACTERS.fullmatch(text):
        return None
    groups = re.findall(r"\d+", text)
    if not groups:
        return None
    if stored := _STORED_FOREIGN.fullmatch(text):
        return _international([stored[1], stored[2]], stored[3] or extension)
    if text.startswith("+"):
        return _international(groups, extension)
    if groups[0].startswith("00"):
        groups[0] = groups[0][2:]
        return _international([group for group in groups if group], extension)
    digits = "".join(groups)
    if len(digits) == 13 and digits.startswith("86") and _MOBILE.fullmatch(digits[2:]):
        return Phone(digits[2:], "mobile") if not extension else None
    return _domestic(groups, extension)


def _international(groups: list[str], extension: str) -> Phone | None:
    """A number written with its country code (``groups`` start with it)."""
    if not groups:
        return None
    if groups[0].startswith("86"):
        groups = [groups[0][2:], *groups[1:]] if groups[0] != "86" else groups[1:]
        groups = [group for group in groups if group]
        if not groups:
            return None
        digits = "".join(groups)
        if not digits.startswith("0") and not _MOBILE.fullmatch(digits):
            groups = ["0" + groups[0], *groups[1:]]  # +86 21 ... is 021 ...
        return _domestic(groups, extension)
    digits = "".join(groups)
    if not 7 <= len(digits) <= 15:
        return None
    if len(groups) > 1 and len(groups[0]) <= 3:
        number = f"+{groups[0]} {''.join(groups[1:])}"
    else:
        number = f"+{digits}"
    return Phone(number + (f"-{extension}" if extension else ""), "landline")


def _domestic(groups: list[str], extension: str) -> Phone | None:
    """A mainland number from its digit groups; when the digits together are no number,
    the last group may be an extension (``021-61234567-8001``)."""
    phone = _domestic_number("".join(groups), extension)
    if phone is None and not extension and len(groups) >= 2 and len(groups[-1]) <= 6:
        phone = _domestic_number("".join(groups[:-1]), groups[-1])
    return phone


def _domestic_number(digits: str, extension: str) -> Phone | None:
    suffix = f"-{extension}" if extension else ""
    if _MOBILE.fullmatch(digits):
        return None if extension else Phone(digits, "mobile")
    if _SERVICE.fullmatch(digits):
        return Phone(f"{digits[:3]}-{digits[3:6]}-{digits[6:]}{suffix}", "landline")
    if _HOTLINE.fullmatch(digits):
        return None if extension else Phone(digits, "landline")
    if digits.startswith("0") and len(digits) > 4:
        area_length = 3 if digits[1] in "12" else 4  # 010 and 02x; the rest are 0 and three digits
        area, local = digits[:area_length], digits[area_length:]
        if _LOCAL.fullmatch(local):
            return Phone(f"{area}-{local}{suffix}", "landline")
        return None
    if _LOCAL.fullmatch(digits):
        return Phone(digits + suffix, "landline")
    return None


# ------------------------------------------------------------------ choices
#: How many allowed labels an error lists.
_CHOICES_SHOWN = 8
ChoiceList = type[models.Choices] | Iterable[tuple[Any, Any]]


def _fold(text: str) -> str:
    """A text as a key that ignores case, spaces (``IT 与软件`` is typed ``IT与软件``),
    and full- or half-width forms."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", text)).casefold()


#: The lookups of :func:`choice_lookup`, by the identity of the choices they were built
#: from (kept with them, so an identity is never taken for another's).
_LOOKUPS: dict[int, tuple[Any, dict[str, Any]]] = {}


def choice_lookup(choices: Any) -> dict[str, Any]:
    """Every way ``choices`` may be typed (the stored value, the Chinese and the English
    label, folded by :func:`_fold`) and the value each stands for.  A stored value wins
    over a label that happens to spell another choice's value.

    Built once for a given ``choices`` object (a ``TextChoices`` class, a field's choices
    dict or a list of pairs): an import reads the same column's choices on every row."""
    cached = _LOOKUPS.get(id(choices))
    if cached is not None and cached[0] is choices:
        return cached[1]
    pairs = _pairs(choices)
    lookup: dict[str, Any] = {}
    for value, _label in pairs:
        lookup.setdefault(_fold(str(value)), value)
    for language in ("zh-hans", "en"):
        with translation.override(language):
            for value, label in pairs:
                lookup.setdefault(_fold(str(label)), value)
    if len(_LOOKUPS) > 512:
        _LOOKUPS.clear()
    _LOOKUPS[id(choices)] = (choices, lookup)
    return lookup


def _pairs(choices: Any) -> list[tuple[Any, Any]]:
    if isinstance(choices, type) and issubclass(choices, models.Choices):
        return list(choices.choices)
    if isinstance(choices, Mapping):
        return list(choices.items())
    return list(choices)


def choice_value(raw: Cell, choices: Any) -> Any:
    """The value ``raw`` names among ``choices`` (as :func:`parse_choice` reads it), or
    None: for a cell that may be a choice or something else (a region or a place)."""
    if _blank(raw):
        return None
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    return choice_lookup(choices).get(_fold(str(raw)))


def parse_choice(raw: Cell, choices: ChoiceList | Mapping[Any, Any]) -> Parsed[Any]:
    """One of ``choices`` (a ``TextChoices`` class, ``(value, label)`` pairs or a
    field's choices dict): the value it is stored as.

    Read: the stored value (``paid``), the Chinese label (``已付款``) or the English label
    (``Paid``), whichever language is active, ignoring case, surrounding spaces and
    full-width or half-width forms.  A stored value wins over a label that happens to
    spell another choice's value.

    Refused: anything else, with up to eight allowed labels in the reader's language.
    """
    if _blank(raw):
        return Parsed()
    value = choice_value(raw, choices)
    if value is not None:
        return Parsed(value)
    pairs = _pairs(choices)
    labels: list[Any] = [label for _value, label in pairs[:_CHOICES_SHOWN]]
    if len(pairs) > _CHOICES_SHOWN:
        labels.append("…")
    return _refuse(_("Not one of the choices: %(value)s. Choose from: %(choices)s"), raw, choices=labels)


# ------------------------------------------------------------------ yes or no
_YES = frozenset({"是", "对", "有", "真", "y", "yes", "true", "t", "1", "✓", "✔", "√", "☑"})
_NO = frozenset({"否", "错", "无", "没有", "假", "n", "no", "false", "f", "0", "✗", "✘", "×", "☐"})


def parse_bool(raw: Cell) -> Parsed[bool]:
    """Yes or no.

    Yes: 是, 对, 有, 真, Y, yes, true, T, 1, ✓ ✔ √ ☑; no: 否, 错, 无, 没有, 假, N, no,
    false, F, 0, ✗ ✘ × ☐; in any case and width.  A boolean cell is itself; the numbers 1
    and 0 are yes and no.  Refused: anything else (``maybe``, ``2``).
    """
    if _blank(raw):
        return Parsed()
    if isinstance(raw, bool):
        return Parsed(raw)
    number = _number(raw)
    if number is not None and number in (0, 1):
        return Parsed(number == 1)
    if isinstance(raw, str):
        word = _fold(raw)
        if word in _YES:
            return Parsed(True)
        if word in _NO:
            return Parsed(False)
    return _refuse(_("Not a yes or no: %(value)s"), raw)


# ------------------------------------------------------------------ places
#: Every provincial-level division: its name, its short name, its macro-region (the
#: values of ``customers.choices.Region``) and its prefecture-level cities without 市.
#: A municipality or a special administrative region is its own city.
_PROVINCE_TABLE = """
北京市            北京    north
天津市            天津    north
河北省            河北    north      石家庄 唐山 秦皇岛 邯郸 邢台 保定 张家口 承德 沧州 廊坊 衡水
山西省            山西    north      太原 大同 阳泉 长治 晋城 朔州 晋中 运城 忻州 临汾 吕梁
内蒙古自治区      内蒙古  north      呼和浩特 包头 乌海 赤峰 通辽 鄂尔多斯 呼伦贝尔 巴彦淖尔 乌兰察布
辽宁省            辽宁    northeast  沈阳 大连 鞍山 抚顺 本溪 丹东 锦州 营口 阜新 辽阳 盘锦 铁岭 朝阳 葫芦岛
吉林省            吉林    northeast  长春 吉林 四平 辽源 通化 白山 松原 白城
黑龙江省          黑龙江  northeast  哈尔滨 齐齐哈尔 鸡西 鹤岗 双鸭山 大庆 伊春 佳木斯 七台河 牡丹江 黑河 绥化
上海市            上海    east
江苏省            江苏    east       南京 无锡 徐州 常州 苏州 南通 连云港 淮安 盐城 扬州 镇江 泰州 宿迁
浙江省            浙江    east       杭州 宁波 温州 嘉兴 湖州 绍兴 金华 衢州 舟山 台州 丽水
安徽省            安徽    east       合肥 芜湖 蚌埠 淮南 马鞍山 淮北 铜陵 安庆 黄山 滁州 阜阳 宿州 六安 亳州
                                     池州 宣城
福建省            福建    east       福州 厦门 莆田 三明 泉州 漳州 南平 龙岩 宁德
江西省            江西    east       南昌 景德镇 萍乡 九江 新余 鹰潭 赣州 吉安 宜春 抚州 上饶
山东省            山东    east       济南 青岛 淄博 枣庄 东营 烟台 潍坊 济宁 泰安 威海 日照 临沂 德州 聊城 滨州
                                     菏泽
河南省            河南    central    郑州 开封 洛阳 平顶山 安阳 鹤壁 新乡 焦作 濮阳 许昌 漯河 三门峡 南阳 商丘
                                     信阳 周口 驻马店
湖北省            湖北    central    武汉 黄石 十堰 宜昌 襄阳 鄂州 荆门 孝感 荆州 黄冈 咸宁 随州
湖南省            湖南    central    长沙 株洲 湘潭 衡阳 邵阳 岳阳 常德 张家界 益阳 郴州 永州 怀化 娄底
广东省            广东    south      广州 韶关 深圳 珠海 汕头 佛山 江门 湛江 茂名 肇庆 惠州 梅州 汕尾 河源 阳江
                                     清远 东莞 中山 潮州 揭阳 云浮
广西壮族自治区    广西    south      南宁 柳州 桂林 梧州 北海 防城港 钦州 贵港 玉林 百色 贺州 河池 来宾 崇左
海南省            海南    south      海口 三亚 三沙 儋州
重庆市            重庆    southwest
四川省            四川    southwest  成都 自贡 攀枝花 泸州 德阳 绵阳 广元 遂宁 内江 乐山 南充 眉山 宜宾 广安
                                     达州 雅安 巴中 资阳
贵州省            贵州    southwest  贵阳 六盘水 遵义 安顺 毕节 铜仁
云南省            云南    southwest  昆明 曲靖 玉溪 保山 昭通 丽江 普洱 临沧
西藏自治区        西藏    southwest  拉萨 日喀则 昌都 林芝 山南 那曲
陕西省            陕西    northwest  西安 铜川 宝鸡 咸阳 渭南 延安 汉中 榆林 安康 商洛
甘肃省            甘肃    northwest  兰州 嘉峪关 金昌 白银 天水 武威 张掖 平凉 酒泉 庆阳 定西 陇南
青海省            青海    northwest  西宁 海东
宁夏回族自治区    宁夏    northwest  银川 石嘴山 吴忠 固原 中卫
新疆维吾尔自治区  新疆    northwest  乌鲁木齐 克拉玛依 吐鲁番 哈密
香港特别行政区    香港    hk_mo_tw
澳门特别行政区    澳门    hk_mo_tw
台湾省            台湾    hk_mo_tw   台北 新北 桃园 台中 台南 高雄 基隆 新竹 嘉义
"""
#: Other ways people write a province.
_PROVINCE_ALIASES = {"内蒙": "内蒙古自治区", "香港特区": "香港特别行政区", "澳门特区": "澳门特别行政区"}
#: What people add after a province's short name, right or wrong (广西省, 香港特区).
_PROVINCE_ENDINGS = ("特别行政区", "壮族自治区", "回族自治区", "维吾尔自治区", "自治区", "特区", "省", "市")
#: After a city's short name these make it a district or a county of the same name
#: (朝阳区 is in Beijing, not 朝阳市 in Liaoning).
_NOT_A_CITY_NEXT = frozenset("区县镇乡村路街")
#: A city the tables do not know, written with its ending (温岭市, 延边朝鲜族自治州).
_OTHER_CITY = re.compile(r"\w{1,10}?(?:市|地区|自治州|盟)")
_COUNTRY = ("中华人民共和国", "中国")


@dataclass(frozen=True)
class _Name:
    province: str
    city: str  # empty for a province's name
    short: bool  # written without 省, 市 or 自治区


def _provinces() -> list[tuple[str, str, str, list[str]]]:
    """The rows of ``_PROVINCE_TABLE``: an indented line goes on with the cities above."""
    rows: list[tuple[str, str, str, list[str]]] = []
    for line in _PROVINCE_TABLE.strip("\n").splitlines():
        if line.startswith(" "):
            rows[-1][3].extend(line.split())
        else:
            province, short, region, *cities = line.split()
            rows.append((province, short, region, cities))
    return rows


def _place_names(provinces: list[tuple[str, str, str, list[str]]]) -> dict[str, _Name]:
    names: dict[str, _Name] = {}
    for province, short, _region, _cities in provinces:
        names[province] = _Name(province, "", short=False)
        names[short] = _Name(province, "", short=True)
    for alias, province in _PROVINCE_ALIASES.items():
        names[alias] = _Name(province, "", short=False)
    for province, _short, _region, cities in provinces:
        for city in cities:
            # A province's name wins over a city's: 吉林 is the province, 吉林市 the city.
            names.setdefault(city + "市", _Name(province, city + "市", short=False))
            names.setdefault(city, _Name(province, city + "市", short=True))
    return names


_PROVINCES = _provinces()
_NAMES = _place_names(_PROVINCES)
_LONGEST_NAME = max(len(name) for name in _NAMES)
_REGIONS = {province: region for province, _short, region, _cities in _PROVINCES}
#: Municipalities and special administrative regions: the province is the city.
_CITY_PROVINCES = frozenset(province for province, _short, _region, cities in _PROVINCES if not cities)


def _name_at_start(text: str) -> tuple[_Name, str] | None:
    """The longest place name ``text`` starts with, and the rest of ``text``."""
    for length in range(min(_LONGEST_NAME, len(text)), 1, -1):
        name = _NAMES.get(text[:length])
        if name is None:
            continue
        rest = text[length:]
        if name.city and name.short and rest[:1] in _NOT_A_CITY_NEXT:
            continue
        return name, rest
    return None


def parse_place(raw: Cell) -> Parsed[Place]:
    """The province, city and macro-region a place names.

    Read: ``浙江省杭州市``, ``浙江杭州``, ``杭州``, ``杭州市西湖区``, ``广东省深圳市南山区``,
    ``上海市``, ``北京``, ``广西``, ``内蒙古``, ``新疆``, ``香港``, with or without 中国 before
    it, and with 省, 市, 自治区 or 特别行政区 or without (``广西省`` too).  The province and
    city come back in their full names (``广西壮族自治区``, ``杭州市``); a municipality
    (北京, 天津, 上海, 重庆) or Hong Kong and Macao is its own city.  A city alone tells
    its province.  A city the tables do not know is kept as written when it ends in 市,
    地区, 自治州 or 盟 (``浙江省温岭市``); otherwise only the province is known.

    Refused: no province or known city at the start, or a city in another province than
    the one written (``江苏杭州``); the importer then keeps the text as it is.
    """
    if _blank(raw):
        return Parsed()
    place = None
    if isinstance(raw, str):
        text = _compact(raw)
        for country in _COUNTRY:
            text = text.removeprefix(country)
        place = _place_from_text(text)
    if place is None:
        return _refuse(_("Not a province or city in China: %(value)s"), raw)
    return Parsed(place)


def _place_from_text(text: str) -> Place | None:
    found = _name_at_start(text)
    if found is None:
        return None
    name, rest = found
    province = name.province
    if name.city:
        return Place(province, name.city, _REGIONS[province])
    if name.short:
        rest = next((rest[len(end) :] for end in _PROVINCE_ENDINGS if rest.startswith(end)), rest)
    if province in _CITY_PROVINCES:
        return Place(province, province, _REGIONS[province])
    city = ""
    in_city = _name_at_start(rest)
    if in_city is not None and in_city[0].city:
        if in_city[0].province != province:
            return None
        city = in_city[0].city
    elif other := _OTHER_CITY.match(rest):
        city = other[0]
    return Place(province, city, _REGIONS[province])


# ------------------------------------------------------------------ text
#: Spaces of every width (Unicode's space separators), not tabs or line breaks.
_HORIZONTAL_SPACES = re.compile("[ \u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\ufeff"))


def parse_text(raw: Cell, max_length: int | None = None) -> Parsed[str]:
    """A text, tidied.

    Kept as written but: surrounding white space is stripped; a run of spaces inside
    becomes one space (line breaks and tabs stay; spaces at the ends of lines go);
    carriage returns become line breaks; zero-width spaces and byte-order marks go;
    full-width digits and letters (``ＡＢＣ１２３``) become ASCII, while Chinese
    punctuation (，。（）) stays as written.  A number from the reader is its digits
    (``12345.0`` is ``12345``), a date its ISO form.

    Refused: control characters other than line break and tab, and more than
    ``max_length`` characters.
    """
    if _blank(raw):
        return Parsed()
    if isinstance(raw, str):
        text = raw
    elif isinstance(raw, dt.date | dt.time):
        text = raw.isoformat()
    elif isinstance(raw, float) and math.isfinite(raw):
        text = str(_float_digits(raw))
    else:
        text = str(raw)
    text = text.translate(_HALF_WIDTH_ALNUM).translate(_INVISIBLE).replace("\r\n", "\n").replace("\r", "\n")
    text = _HORIZONTAL_SPACES.sub(" ", text)
    text = "\n".join(line.strip(" ") for line in text.split("\n")).strip()
    if not text:
        return Parsed()
    if control_characters(text):
        return Parsed(error=_say(_("Remove the control characters (such as NUL) from this text.")))
    if max_length is not None and len(text) > max_length:
        return Parsed(
            error=_say(
                _("Write at most %(limit)d characters (this text has %(length)d)."), limit=max_length, length=len(text)
            )
        )
    return Parsed(text)
