"""Filter kinds shared by every API filter set."""

from __future__ import annotations

from typing import Any

import django_filters


class ChoicesFilter(django_filters.MultipleChoiceFilter):
    """One or several values of a choice column (``?status=open&status=in_progress``).

    django-filter makes a multiple-choice filter ``SELECT DISTINCT`` by default, in case
    it crosses a relation with many rows per record; on a column of the record itself it
    never does, and DISTINCT over whole rows made PostgreSQL sort every matching row of
    the table before reading a page (3.7 s for ``/customers/?kind=enterprise`` at a
    million customers).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("distinct", False)
        super().__init__(*args, **kwargs)
