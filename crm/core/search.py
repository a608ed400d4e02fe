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


#: A related record's matches up to this many are looked for by their ids.
RELATED_MATCHES = 5000


def text_match(
    model: Any, lookups: Iterable[str], term: str, *, by_index: bool = True, known: dict[Any, list[Any]] | None = None
) -> Q:
    """``term`` in any of ``lookups`` (``path__icontains`` and others, as a search names
    them), OR-ed.  Without ``by_index``, that is all: the look-ups as they are, for a
    statement that checks them row by row as it walks another index.

    The case-insensitive substring look-ups of the columns the model's bigram index
    covers are AND-ed with that index's condition when the term is too short for
    trigrams (or always, for a model whose searched columns have no trigram index of
    their own: ``search_bigrams_always``), so that the database finds their rows on the
    index.  A look-up of a column of a related record that keeps such an index (a
    contact's ``customer__name``) is matched there first: the record's own ids, up to
    ``RELATED_MATCHES``, in the OR (an OR through a join would read every row).  Every
    other look-up (an exact tax id) stays as it is beside them.

    Without ``by_index`` too, a related record's matches are named by their ids when
    they are few (up to ``RELATED_MATCHES``): each row walked is then checked on its own
    columns, without looking up its related record first.  An admin's orders searched
    for a term that 158,000 references hold walked 30,000 orders to a page, and looked
    up each one's customer to check its name and code (170 ms at L).
    """
    if not by_index:
        return _any([_walked_match(model, lookup, term, known) for lookup in lookups])
    columns = bigram_columns(model)
    covered: list[Q] = []
    others: list[Q] = []
    for lookup in lookups:
        path = lookup[: -len(_CONTAINS)] if lookup.endswith(_CONTAINS) else None
        if path in columns:
            covered.append(Q(**{lookup: term}))
        else:
            others.append(_related_match(model, path, term, known=known) if path else Q(**{lookup: term}))
    always = getattr(model, "search_bigrams_always", False)
    if covered and (needs_bigrams(term) or (always and len(term) >= 2)):
        pieces = DataContains(bigram_index(columns), Bigrams(Upper(Value(term, output_field=TextField()))))
        covered = [Q(pieces) & _any(covered)]
    return _any(covered + others)


def trigram_columns(model: Any) -> tuple[str, ...]:
    """The columns of ``model`` with a trigram index on their upper-cased text
    (``search_trigrams``): a term of three word characters in a row is found there."""
    return tuple(getattr(model, "search_trigrams", ()))


def _served(model: Any, column: str, term: str) -> bool:
    """Whether an index of ``model`` finds ``term`` in ``column``."""
    return column in bigram_columns(model) or (column in trigram_columns(model) and bool(_TRIGRAM_RUN.search(term)))


def _related_match(
    model: Any, path: str, term: str, *, walked: bool = False, known: dict[Any, list[Any]] | None = None
) -> Q:
    """``path__icontains=term``; through a relation to a record with an index that finds
    the term in the column, as the ids of the related records that match, and past
    ``RELATED_MATCHES`` of them as a subquery, which the database runs once (a join to
    check the related record of each row would read every row).  For a statement that
    checks its rows as it walks another index (``walked``), the look-up stays as it is
    past ``RELATED_MATCHES``: the walk meets a page of rows long before the subquery
    would have found its every match (71,000 customers named 工程: 110 ms).  ``known``
    keeps the ids read, for the same search's other statement (its walked condition)."""
    relation, _sep, column = path.partition("__")
    field = model._meta.get_field(relation) if column else None
    if field is None or not field.many_to_one or not _served(field.related_model, column, term):
        return Q(**{f"{path}{_CONTAINS}": term})
    related = field.related_model._default_manager.filter(text_match(field.related_model, [column + _CONTAINS], term))
    key = (field.related_model._meta.label, column, term)
    ids = known.get(key) if known is not None else None
    if ids is None:
        ids = list(related.order_by().values_list("pk", flat=True)[: RELATED_MATCHES + 1])
        if known is not None:
            known[key] = ids
    if len(ids) > RELATED_MATCHES:  # a very broad term
        return Q(**{f"{path}{_CONTAINS}": term}) if walked else Q(**{f"{field.attname}__in": related.values("pk")})
    return Q(**{f"{field.attname}__in": ids})


def _walked_match(model: Any, lookup: str, term: str, known: dict[Any, list[Any]] | None) -> Q:
    """``lookup=term``, for a statement that checks it row by row; a related record's
    column as :func:`_related_match` finds it."""
    path = lookup[: -len(_CONTAINS)] if lookup.endswith(_CONTAINS) else None
    if path is None or "__" not in path:
        return Q(**{lookup: term})
    return _related_match(model, path, term, walked=True, known=known)


def _any(conditions: list[Q]) -> Q:
    found = Q()
    for condition in conditions:
        found |= condition
    return found
