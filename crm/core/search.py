"""A substring search of text columns that an index serves at any length of term.

The trigram indexes (``pg_trgm``) serve ``UPPER(column) LIKE '%TERM%'`` only when the
term holds three word characters in a row.  Most Chinese brand names are two (华为,
格力, 美的), and such a search read every row: 1.3 s at a million customers.

A model names the text columns its searches cover in ``search_bigrams``, and keeps one
GIN index over their two-character pieces (:class:`Bigrams`, the SQL function
``crm_bigrams`` of core's migration 0004).  A term too short for trigrams first finds the
rows holding every piece of it in one of those columns, on that index, and the ``LIKE``
checks each of them (:func:`text_match`).  The index finds a superset of the matches of
any of its columns, so it serves a search of any subset of them: the columns the caller
may read in clear.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.lookups import DataContains
from django.db.models import Func, Q, TextField, Value
from django.db.models.functions import Upper

#: Three word characters in a row: a term holding them is found on the trigram indexes.
_TRIGRAM_RUN = re.compile(r"[^\W_]{3}")
_CONTAINS = "__icontains"


class Bigrams(Func):
    """The distinct two-character pieces of each of the given texts, as one text array
    (``crm_bigrams``; no piece spans two of them)."""

    function = "crm_bigrams"
    output_field = ArrayField(TextField())


def bigram_columns(model: Any) -> tuple[str, ...]:
    """The columns ``model``'s bigram index covers, in its order (empty: none)."""
    return tuple(getattr(model, "search_bigrams", ()))


def bigram_index(columns: Iterable[str]) -> Bigrams:
    """The expression a model's bigram index is built on, and its searches name: the
    pieces of each column, upper-cased as the search compares them."""
    return Bigrams(*(Upper(column) for column in columns))


def needs_bigrams(term: str) -> bool:
    """Whether ``term`` is too short for the trigram indexes (no three word characters
    in a row) yet long enough to have a piece of two."""
    return len(term) >= 2 and _TRIGRAM_RUN.search(term) is None


def text_match(model: Any, lookups: Iterable[str], term: str) -> Q:
    """``term`` in any of ``lookups`` (``path__icontains`` and others, as a search names
    them), OR-ed.

    When the term is too short for trigrams, the case-insensitive substring look-ups of
    the columns the model's bigram index covers are AND-ed with that index's condition,
    so that the database finds their rows on the index; every other look-up (an exact
    tax id, a column of a related record) stays as it is beside them.
    """
    columns = bigram_columns(model)
    covered: list[Q] = []
    others: list[Q] = []
    for lookup in lookups:
        path = lookup[: -len(_CONTAINS)] if lookup.endswith(_CONTAINS) else None
        (covered if path in columns else others).append(Q(**{lookup: term}))
    if covered and needs_bigrams(term):
        pieces = DataContains(bigram_index(columns), Bigrams(Upper(Value(term, output_field=TextField()))))
        covered = [Q(pieces) & _any(covered)]
    return _any(covered + others)


def _any(conditions: list[Q]) -> Q:
    found = Q()
    for condition in conditions:
        found |= condition
    return found
