"""How complete a customer's archive is: the weighted fields of the key-account archive
template (basic facts, contact ways, business size, credit terms, key contacts).

The weights sum to 100, so the score is a percentage.  It is computed on the record,
whatever the reader may see: a reader is told only which fields are missing (their
names, never values).  :func:`completeness_expression` gives it in SQL for lists (annotate
and filter on it); :func:`completeness` in Python for one customer — both from
:data:`FIELDS`, so they agree.  The database also keeps every customer's score, as
points from its fields and from its contacts (``ArchiveState``, customers migration
0019, for archive health over a whole book); its weights are these, and a test checks
that it scores every archive as :func:`completeness` does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Case, Exists, Field, IntegerField, OuterRef, Q, Value, When
from django.db.models.functions import Coalesce
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .choices import Industry
from .models import Contact, Customer

COMPLETE_PERCENT = 80  # an archive at or above this share counts as complete


@dataclass(frozen=True)
class ArchiveField:
    """One field of the archive template: its label, weight and how it counts as filled."""

    key: str
    label: str | Promise
    weight: int
    sql: Callable[[], Q | Exists]
    filled: Callable[[Customer, list[Contact]], bool]


def _label(name: str) -> str | Promise:
    """The field's own (translated) label, as the profile shows it."""
    field = Customer._meta.get_field(name)
    return field.verbose_name if isinstance(field, Field) else name


def _text(name: str) -> ArchiveField:
    label = _label(name)
    return ArchiveField(name, label, 0, lambda: ~Q(**{name: ""}), lambda c, _contacts: bool(getattr(c, name)))


def _value(name: str) -> ArchiveField:
    label = _label(name)
    return ArchiveField(
        name, label, 0, lambda: Q(**{f"{name}__isnull": False}), lambda c, _contacts: getattr(c, name) is not None
    )


def _weighted(field: ArchiveField, weight: int) -> ArchiveField:
    return ArchiveField(field.key, field.label, weight, field.sql, field.filled)


FIELDS: tuple[ArchiveField, ...] = (
    _weighted(_text("name"), 5),
    _weighted(_text("short_name"), 3),
    ArchiveField(
        "industry",
        _("industry"),
        8,
        lambda: ~Q(industry=Industry.OTHER) & ~Q(industry=""),
        lambda c, _contacts: c.industry not in ("", Industry.OTHER),
    ),
    _weighted(_text("region"), 4),
    _weighted(_text("city"), 6),
    _weighted(_text("address"), 7),
    _weighted(_text("phone"), 8),
    _weighted(_text("website"), 4),
    _weighted(_text("tax_id"), 8),
    _weighted(_text("company_size"), 5),
    _weighted(_value("employee_count"), 4),
    _weighted(_value("annual_revenue"), 6),
    _weighted(_value("credit_limit"), 6),
    _weighted(_text("source"), 4),
    ArchiveField(
        "key_contact",
        _("key contact with a mobile"),
        14,
        lambda: Exists(Contact.objects.filter(customer=OuterRef("pk")).exclude(mobile="")),
        lambda _c, contacts: any(contact.mobile for contact in contacts),
    ),
    ArchiveField(
        "decision_maker",
        _("decision maker known"),
        8,
        lambda: Exists(Contact.objects.filter(customer=OuterRef("pk"), is_decision_maker=True)),
        lambda _c, contacts: any(contact.is_decision_maker for contact in contacts),
    ),
)
assert sum(field.weight for field in FIELDS) == 100


@dataclass(frozen=True)
class Completeness:
    """A customer's score (0-100) and the labels of the fields still missing."""

    percent: int
    missing: list[str]

    @property
    def complete(self) -> bool:
        return self.percent >= COMPLETE_PERCENT


def completeness_expression() -> Any:
    """SQL: each customer's score (0-100), to annotate, order and filter on."""
    total: Any = Value(0)
    for field in FIELDS:
        total = total + Case(When(field.sql(), then=Value(field.weight)), default=Value(0))
    return Coalesce(total, Value(0), output_field=IntegerField())


def completeness(customer: Customer, contacts: Iterable[Contact] | None = None) -> Completeness:
    """One customer's score and missing fields (reads its contacts unless given)."""
    people = list(contacts) if contacts is not None else list(Contact.objects.filter(customer=customer))
    percent = 0
    missing: list[str] = []
    for field in FIELDS:
        if field.filled(customer, people):
            percent += field.weight
        else:
            missing.append(str(field.label))
    return Completeness(percent=percent, missing=missing)
