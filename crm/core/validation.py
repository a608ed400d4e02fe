"""What the CRM accepts as a value, whichever channel writes it.

The rules, each a setting that a deployment can change from the environment:

* A date or a time lies between ``CRM_DATE_MIN`` and ``CRM_DATE_MAX`` (1900-01-01 and
  2199-12-31 unless set): an order dated 0001-01-01 or due 9999-12-31 is a typing
  mistake, and such values break the date arithmetic of reports, risk rules and time
  zones (9999-12-31 23:59 UTC has no local time east of Greenwich).
* A long text (a ``TextField``: notes, descriptions, comments) holds at most
  ``CRM_TEXT_MAX_LENGTH`` characters (10,000 unless set); shorter fields keep their own
  ``max_length``.
* Text holds no control characters other than tab, line feed and carriage return (no
  NUL, no other C0 or C1 code, no DEL) and no unpaired surrogate: they cannot be stored,
  printed or exported safely.
* Numbers, dates and times are written with the digits 0-9.  Python's ``int()``,
  ``Decimal()`` and the date parsers also read Arabic-Indic, Devanagari or full-width
  digits (``int("١٢٣") == 123``), so such input used to be stored as a number nobody typed.

Two places apply them.  :func:`record_validate` checks a record before it is written; the
generic writes of :mod:`crm.core.services` (``record_create``, ``record_update``,
``record_save``) call it, so every channel built on them (API, HTML forms, admin site,
management commands, imports) keeps the rules, and the refusal names the fields.
:func:`input_rules_install` makes the number, date and time fields of Django forms and of
Django REST framework refuse other digits and out-of-range dates as they parse input, so
that query parameters and filters (which write nothing) are refused with a 400 too.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext as _
from rest_framework import ISO_8601, relations
from rest_framework import fields as api_fields
from rest_framework.exceptions import ValidationError as APIValidationError
from rest_framework.settings import api_settings

#: Control characters text may carry.
_ALLOWED_CONTROLS = frozenset("\t\n\r")


# ------------------------------------------------------------------ the limits
def date_range() -> tuple[dt.date, dt.date]:
    """The first and last day a date or time may fall on (``CRM_DATE_MIN``, ``CRM_DATE_MAX``)."""
    return settings.CRM_DATE_MIN, settings.CRM_DATE_MAX


def text_max_length() -> int:
    """The most characters a long text may hold (``CRM_TEXT_MAX_LENGTH``)."""
    return int(settings.CRM_TEXT_MAX_LENGTH)


# ------------------------------------------------------------------ one value
def foreign_digits(text: str) -> bool:
    """Whether ``text`` has a digit other than 0-9 (Arabic-Indic, full-width ...)."""
    return any(char.isdigit() and not char.isascii() for char in text)


def control_characters(text: str) -> bool:
    """Whether ``text`` has a control character other than tab, line feed and carriage
    return, or an unpaired surrogate."""
    return any(
        unicodedata.category(char) in ("Cc", "Cs") and char not in _ALLOWED_CONTROLS
        for char in text
        if not (" " <= char <= "~")  # printable ASCII, the common case, checked cheaply
    )


def date_problem(value: dt.date | dt.datetime) -> str | None:
    """Why a date or time is refused, or ``None`` when it is within the business range."""
    first, last = date_range()
    day = _business_day(value) if isinstance(value, dt.datetime) else value
    return None if first <= day <= last else _range_message()


def _range_message() -> str:
    return _between(*date_range())


def _between(first: dt.date, last: dt.date) -> str:
    return _("Give a date between %(first)s and %(last)s.") % {"first": first.isoformat(), "last": last.isoformat()}


def _business_day(value: dt.datetime) -> dt.date:
    """The day a time falls on in the business time zone (at the very ends of the
    calendar, where converting overflows, the day it names)."""
    if timezone.is_naive(value):
        return value.date()
    try:
        return timezone.localtime(value).date()
    except OverflowError:
        return value.date()


@deconstructible
class BusinessDate:
    """A date or time of the business, within what makes sense for it (on top of the
    calendar range above): not before ``CRM_BUSINESS_DATE_MIN`` (1980-01-01 unless set:
    an order or a follow-up in 1900 is a typing mistake), and

    - ``HAPPENED`` (an order placed, a visit done, a payment received, a complaint
      received): not after today (a visit done in 2099 has not happened);
    - ``PLANNED`` (a due date, a follow-up, a campaign's dates): at most
      ``CRM_BUSINESS_YEARS_AHEAD`` years (10 unless set) after today.

    The bounds only widen as the days pass, so a value once accepted stays valid.  The
    rule is checked by :func:`record_validate` on the values being written (on every
    channel: the services all call it), not by ``full_clean``: a value stored before the
    rule existed does not block an edit of something else."""

    HAPPENED = "happened"
    PLANNED = "planned"

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def __call__(self, value: Any) -> None:
        """Nothing: see the class's docstring (:meth:`problem` is the check)."""

    def problem(self, value: Any) -> str | None:
        """Why ``value`` is refused, or None."""
        if not isinstance(value, dt.date):
            return None
        first, last = business_range(self.kind)
        day = _business_day(value) if isinstance(value, dt.datetime) else value
        return None if first <= day <= last else _between(first, last)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BusinessDate) and other.kind == self.kind

    def __hash__(self) -> int:
        return hash(self.kind)


def business_range(kind: str) -> tuple[dt.date, dt.date]:
    """The first and last day a business date of ``kind`` may fall on today (see
    :class:`BusinessDate`); within the calendar range whatever the settings."""
    first, last = date_range()
    today = timezone.localdate()
    earliest = max(first, settings.CRM_BUSINESS_DATE_MIN)
    if kind == BusinessDate.HAPPENED:
        # A day's grace: "today" somewhere east of the business time zone.
        latest = today + dt.timedelta(days=1)
    else:
        years = int(settings.CRM_BUSINESS_YEARS_AHEAD)
        try:
            latest = today.replace(year=today.year + years)
        except ValueError:  # 29 February
            latest = today.replace(year=today.year + years, day=28)
    return earliest, min(last, latest)


#: The validators of a business date that has happened, and of one that is planned.
happened = BusinessDate(BusinessDate.HAPPENED)
planned = BusinessDate(BusinessDate.PLANNED)


def _digits_message() -> str:
    return _("Write numbers with the digits 0-9.")


def _text_problems(value: Any, limit: int | None) -> list[str]:
    """Problems of a text value, or of the strings inside a list or a JSON value."""
    problems: list[str] = []
    for text in _strings(value):
        if limit is not None and len(text) > limit:
            problems.append(
                _("Write at most %(limit)d characters (this text has %(length)d).")
                % {"limit": limit, "length": len(text)}
            )
        if control_characters(text):
            problems.append(_("Remove the control characters (such as NUL) from this text."))
        if problems:
            break
    return problems


def _strings(value: Any) -> Iterable[str]:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)


def parse_id(value: str | None) -> int | None:
    """The record id a query parameter names, or ``None`` when it names none: only the
    digits 0-9, and a number a database id can hold (not ``abc``, ``١٢٣`` or 5,000 nines)."""
    if not value or not value.isascii() or not value.isdigit() or len(value) > 18:
        return None
    return int(value)


def parse_page(value: str | None, *, last: int = 1_000_000) -> int:
    """The page number a query parameter asks for: the digits 0-9, from 1 to ``last``
    (anything else is the first page; further than ``last`` is ``last``)."""
    return min(parse_id(value) or 1, last)


# ------------------------------------------------------------------ one record
def field_problems(field: models.Field[Any, Any], value: Any) -> list[str]:
    """Why the value of one model field is refused (empty when it is fine)."""
    if value is None:
        return []
    if isinstance(field, models.DateField | models.DateTimeField | models.TimeField) and isinstance(value, str):
        if foreign_digits(value):
            return [_digits_message()]
        try:
            value = field.to_python(value)
        except ValidationError:
            return []  # full_clean() names the bad format
    if isinstance(value, dt.date) and isinstance(field, models.DateField | models.DateTimeField):
        problem = date_problem(value) or next(
            (found for rule in field.validators if isinstance(rule, BusinessDate) and (found := rule.problem(value))),
            None,
        )
        return [problem] if problem else []
    if isinstance(field, models.IntegerField | models.DecimalField | models.FloatField):
        return [_digits_message()] if isinstance(value, str) and foreign_digits(value) else []
    if isinstance(field, models.TextField):
        return _text_problems(value, text_max_length())
    if isinstance(field, models.CharField | models.JSONField | ArrayField):
        return _text_problems(value, None)
    return []


def record_validate(
    *, instance: models.Model, fields: Iterable[str] | None = None, stored: Mapping[str, Any] | None = None
) -> None:
    """Refuse a record whose values break the CRM's input rules (dates within the business
    range, text within its length and without control characters, numbers in the digits
    0-9), naming each field at fault.

    ``fields`` limits the check to the fields being written (an update); by default every
    field is checked.  ``stored`` (the stored row's values by field name, as
    ``crm.access.writes.stored_values`` gives them) limits it to the values that differ,
    so that a value stored before the rules were set does not block an edit of something
    else.  Raises :class:`django.core.exceptions.ValidationError` with
    a message per field, which the API answers as a 400 and the forms show at the field.
    """
    wanted = set(fields) if fields is not None else None
    checked = [
        field
        for field in instance._meta.concrete_fields
        if wanted is None or field.name in wanted or field.attname in wanted
    ]
    errors: dict[str, list[str]] = {}
    for field in checked:
        value = getattr(instance, field.attname, None)
        if stored is not None and field.name in stored and stored[field.name] == value:
            continue
        problems = field_problems(field, value)
        if problems:
            errors[field.name] = problems
    if errors:
        raise ValidationError(errors)


# ------------------------------------------------------------------ parsing input
def _refuse_foreign_digits(value: Any, error: Callable[[str], Exception]) -> None:
    """Numbers, dates and ids (one, or a list of them) in the digits 0-9 only."""
    values = value if isinstance(value, list | tuple) else [value]
    if any(isinstance(item, str) and foreign_digits(item) for item in values):
        raise error(_digits_message())


def _refuse_out_of_range(value: Any, error: Callable[[str], Exception]) -> Any:
    if isinstance(value, dt.date):
        problem = date_problem(value)
        if problem:
            raise error(problem)
    return value


def _takes_numbers(field: Any) -> bool:
    """Whether a field's input is a number: a number or date field is; a choice of record
    is when it names the record by a number (its id), not by a code."""
    queryset = getattr(field, "queryset", None)
    if queryset is None:
        return True
    key = getattr(field, "to_field_name", None)
    opts = queryset.model._meta
    return isinstance(opts.pk if key in (None, "pk") else opts.get_field(key), models.IntegerField)


def _form_error(message: str) -> Exception:
    return forms.ValidationError(message, code="invalid")


def _api_error(message: str) -> Exception:
    return APIValidationError(message, code="invalid")


def _guard(cls: type, method: str, error: Callable[[str], Exception], *, dates: bool) -> None:
    original = cls.__dict__[method]
    if getattr(original, "input_rules", False):
        return

    @functools.wraps(original)
    def parse(self: Any, value: Any) -> Any:
        if _takes_numbers(self):
            _refuse_foreign_digits(value, error)
        try:
            result = original(self, value)
        except OverflowError as exc:  # a time zone moved 0001-01-01 or 9999-12-31 off the calendar
            raise error(_range_message()) from exc
        return _refuse_out_of_range(result, error) if dates else result

    parse.input_rules = True  # type: ignore[attr-defined]
    setattr(cls, method, parse)


#: The end of an ISO 8601 time whose offset has seconds (``+08:05:43``).
_SECONDS_OFFSET = re.compile(r"[+-]\d\d:\d\d:\d\d(?:\.\d+)?$")


def _rfc3339(original: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """Render a time whose local offset has seconds (before 1901 most zones kept local
    mean time: +08:05:43 in Shanghai) in UTC, so that every offset is ``hh:mm``."""
    if getattr(original, "input_rules", False):
        return original

    @functools.wraps(original)
    def render(self: Any, value: Any) -> Any:
        output = original(self, value)
        if not isinstance(output, str) or not _SECONDS_OFFSET.search(output) or not isinstance(value, dt.datetime):
            return output  # the usual case, told from the text alone
        if str(getattr(self, "format", api_settings.DATETIME_FORMAT)).lower() != ISO_8601:
            return output
        local = self.enforce_timezone(value)
        offset = local.utcoffset()
        if offset is None or not offset % dt.timedelta(minutes=1):
            return output
        return str(local.astimezone(dt.UTC).isoformat()).replace("+00:00", "Z")

    render.input_rules = True  # type: ignore[attr-defined]
    return render


def input_rules_install() -> None:
    """Make the number, date and time fields of Django forms (the HTML forms, the admin
    site, the filters of lists) and of Django REST framework (the API's bodies and query
    parameters) refuse digits other than 0-9 and dates outside the business range, and
    the API render every time with an RFC 3339 offset.

    Called once when the application starts (``crm.core.apps``); calling it again changes
    nothing.  Patching the libraries' base fields is what reaches every field, declared
    or generated, without each serializer, form and filter having to remember it.
    """
    numbers: tuple[type, ...] = (forms.IntegerField, forms.DecimalField, forms.FloatField, forms.DurationField)
    times: tuple[type, ...] = (forms.DateField, forms.DateTimeField, forms.TimeField)
    for cls in (*numbers, *times, forms.ModelChoiceField):  # a record chosen by its id is a number too
        _guard(cls, "to_python", _form_error, dates=cls in times)
    _guard(forms.ModelMultipleChoiceField, "clean", _form_error, dates=False)
    numbers = (api_fields.IntegerField, api_fields.DecimalField, api_fields.FloatField, api_fields.DurationField)
    times = (api_fields.DateField, api_fields.DateTimeField, api_fields.TimeField)
    for cls in (*numbers, *times, relations.PrimaryKeyRelatedField):
        _guard(cls, "to_internal_value", _api_error, dates=cls in times)
    render = api_fields.DateTimeField.to_representation
    setattr(api_fields.DateTimeField, "to_representation", _rfc3339(render))  # noqa: B010 - a method, replaced
