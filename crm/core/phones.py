"""Finding a phone number however it was typed.

People type the same number many ways (``138-0998-5018``, ``+86 138 0998 5018``,
``(0571) 8800 1234``) and store it as they typed it.  A search term that is a phone
number is reduced to its digits (:func:`phone_digits`) and looked for among the digits of
the stored numbers (:class:`Digits`, which the trigram indexes on those columns cover),
so every way of writing it finds every way it was stored.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from django.db.models import CharField, Func

_PHONE_TERM = re.compile(r"\+?[0-9(][0-9 \-().]*")
#: The shortest part of a number searched for (a trigram: what the indexes can find).
_SHORTEST = 3


def phone_digits(term: str) -> str | None:
    """The digits of a search term that is a phone number, or None for any other term.

    A phone number, or a part of one, is digits with only spaces, dashes, dots and
    brackets between them and an optional leading ``+``, at least three digits long.  China's country code is
    dropped (``+86``, ``0086``, or ``86`` before an 11-digit mobile number): numbers are
    stored with it and without it, and the digits of either contain the number itself.
    """
    text = unicodedata.normalize("NFKC", term).strip()
    if not _PHONE_TERM.fullmatch(text):
        return None
    digits = re.sub(r"\D", "", text)
    if len(digits) < _SHORTEST:
        return None
    if text.startswith("+86") or digits.startswith("0086"):
        digits = digits[4:] if digits.startswith("0086") else digits[2:]
    elif len(digits) == 13 and digits.startswith("861"):
        digits = digits[2:]
    return digits if len(digits) >= _SHORTEST else None


class Digits(Func):
    """The digits of a text column, everything else dropped (indexed with trigrams on
    the phone columns, so ``Digits("mobile")`` with ``__contains`` uses the index)."""

    function = "regexp_replace"
    template = "%(function)s(%(expressions)s, '[^0-9]', '', 'g')"
    output_field = CharField()

    def __init__(self, expression: Any, **extra: Any) -> None:
        super().__init__(expression, **extra)
