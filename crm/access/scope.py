"""Record scope: the one place that decides which records a user may see.

A sales rep sees the customers they own; a manager the customers of the teams they
manage (and any they own themselves); an admin and an integration every customer.
Records that belong to a customer (contacts, orders, service records, alerts ...)
follow their customer through the model's ``scope_path``; records that belong to no
customer (products, campaigns, tiers, rules) are company-wide reference data that every
signed-in user may read.

Every queryset in the project that shows records to a user is built by
:func:`scoped_queryset`; nothing filters by owner on its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Model, Q, QuerySet

from crm.accounts.choices import Role
from crm.core.errors import KeyTaken
from crm.core.statements import Prepared

M = TypeVar("M", bound=Model)

_NOTHING = Q(pk__in=[])

#: The forms a user's customer condition takes (:func:`scope_shape`).
NOTHING, EVERYTHING, TEAMS_AND_OWN, OWN = "nothing", "everything", "teams_and_own", "own"


def sees_everything(user: Any) -> bool:
    return bool(
        getattr(user, "is_authenticated", False) and (user.is_superuser or user.role in (Role.ADMIN, Role.INTEGRATION))
    )


def scope_shape(user: Any) -> str:
    """The form of ``user``'s customer condition, which only its values (the user's id)
    tell apart from another user's of the same form: nothing (signed out, inactive or
    no role that owns customers), everything (admins and integrations), the teams the
    user manages and their own customers (a manager), their own customers (a rep)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return NOTHING
    if sees_everything(user):
        return EVERYTHING
    if user.role == Role.MANAGER:
        return TEAMS_AND_OWN
    if user.role == Role.REP:
        return OWN
    return NOTHING


def customer_scope_q(user: Any, path: str = "", *, owner: str = "owner", team: str = "team") -> Q:
    """The condition on a customer (reached through ``path``) for ``user`` to see it.

    ``owner`` and ``team`` name the customer's owner and team there: a record that
    carries a copy of its customer's (``customers.models.CustomerScopeCopy``) names its
    copies, and is then scoped without looking up its customer."""
    shape = scope_shape(user)
    if shape == NOTHING:
        return _NOTHING
    if shape == EVERYTHING:
        return Q()
    prefix = f"{path}__" if path else ""
    mine = Q(**{f"{prefix}{owner}": user})
    if shape == TEAMS_AND_OWN:
        return mine | team_scope_q(user, f"{prefix}{team}")
    return mine


def team_scope_q(user: Any, path: str = "team") -> Q:
    """The condition on a team (reached through ``path``) for ``user`` to see every
    customer assigned to it: any team for who sees everything, the teams they manage for
    a manager, none otherwise.  Figures kept per team (the tier dashboard's) are scoped
    by it; a user's own customers outside those teams are theirs by ``customer_scope_q``."""
    shape = scope_shape(user)
    if shape == EVERYTHING:
        return Q()
    if shape == TEAMS_AND_OWN:
        return Q(**{f"{path}__manager": user})
    return _NOTHING


def few_by_nature(queryset: QuerySet[M]) -> QuerySet[M]:
    """``queryset``, narrowed by a condition that few rows meet by their nature (the
    overdue receivables: 19,494 of ten million orders at L), marked so that its rows are
    read whole and then sorted (:func:`reads_few`), whoever reads them.  The mark stays
    on the queryset through further conditions and sorts."""
    queryset.query.few_by_nature = True  # type: ignore[attr-defined]
    return queryset


def reads_few(model: type[Model], user: Any, queryset: QuerySet[Any] | None = None) -> bool:
    """Whether the rows of ``model`` that ``user`` sees (of ``queryset``, when given) are
    few enough to read all of them and sort them, for any order: those of a rep's own
    customers (a key-account rep keeps a few hundred customers, so a few thousand of
    their orders or follow-ups), and those of a queryset narrowed to few by its nature
    (:func:`few_by_nature`).

    A list sorted by a column that has an index is read, for a manager or an admin, by
    walking that index until a page is found.  For a rep, PostgreSQL takes the rep's
    rows to be spread evenly through the whole company's and walks the index too: at a
    million customers, a rep's orders by payment state walked 308,000 orders (0.8 s)
    where reading the rep's 2,500 and sorting them takes a few milliseconds.  Reference
    data (products, campaigns), which every user sees whole, is not few.

    The overdue orders are found on their own index, but PostgreSQL takes the past due
    date and the open status as independent and guesses 650,000 of them; it then walks
    the order date's index from the newest order, and every recent order is not due yet
    (888,000 orders walked for a page, 1.2 s)."""
    if queryset is not None and getattr(queryset.query, "few_by_nature", False):
        return True
    return scope_shape(user) == OWN and getattr(model, "scope_path", None) is not None


def scoped_queryset(model: type[M], user: Any) -> QuerySet[M]:
    """All rows of ``model`` that ``user`` may see."""
    manager = model._default_manager
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return manager.none()
    custom = getattr(model, "scope_queryset", None)
    if custom is not None:
        return custom(user)  # type: ignore[no-any-return]
    if not hasattr(model, "scope_path"):
        # A model that does not say how it is scoped must not default to "visible to all".
        raise ImproperlyConfigured(f"{model.__name__} declares no scope_path")
    path: str | None = model.scope_path  # type: ignore[attr-defined]
    if path is None:
        return manager.all()
    return manager.filter(customer_scope_q(user, path))


def customers_visible_to(user: Any) -> QuerySet[Any]:
    """The customers ``user`` may see (the base of every other scope)."""

    return scoped_queryset(apps.get_model("customers", "Customer"), user)


def scoped_lookup(model: type[M], user: Any, **key: Any) -> M | None:
    """The record that a natural key (``source`` + ``external_ref``, a code) names, if
    ``user`` may see it; ``None`` if no record holds the key.

    Keys are unique across the whole book, so a key held by a record outside the user's
    scope can neither be updated nor created again by them: that is refused with
    :class:`~crm.core.errors.KeyTaken` (409), which says nothing of the record.  This is
    the one place that asks whether a key exists beyond the caller's scope, and it only
    ever answers yes or no.
    """

    if any(isinstance(value, str) and "\x00" in value for value in key.values()):
        return None  # no stored text holds a NUL character (PostgreSQL refuses one)
    found = scoped_queryset(model, user).filter(**key).first()
    if found is None and model._default_manager.filter(**key).exists():
        raise KeyTaken()
    return found


def held_beyond_scope(model: type[M], user: Any, field: str, values: Iterable[Any]) -> set[Any]:
    """Which of ``values`` of ``field`` are held by records of ``model`` that ``user`` may
    not see: for telling someone that a key or a tax id is taken without telling them
    anything of the record that holds it (the many-value form of :func:`scoped_lookup`'s
    question, asked once for a whole file)."""
    wanted = {value for value in values if value not in (None, "")}
    if not wanted:
        return set()
    everywhere = model._default_manager.filter(**{f"{field}__in": wanted})
    visible = scoped_queryset(model, user).filter(**{f"{field}__in": wanted})
    return set(everywhere.values_list(field, flat=True)) - set(visible.values_list(field, flat=True))


def _stand_in(shape: str, user_id: int) -> Any:
    """A user of ``shape`` with id ``user_id``, never saved: what a scoped statement is
    built for (:class:`ScopedStatement`)."""
    role = {EVERYTHING: Role.ADMIN, TEAMS_AND_OWN: Role.MANAGER, OWN: Role.REP}[shape]
    stand_in = get_user_model()(pk=user_id, role=role, is_active=True, is_superuser=False)
    assert scope_shape(stand_in) == shape
    return stand_in


class ScopedStatement(Generic[M]):
    """A look-up of fixed shape among the records a user may see, compiled once per scope
    form (:func:`scope_shape`) and run with the caller's id and the call's values.

    ``build(user, *values)`` returns the queryset, starting from this module's scope; it
    may use nothing of ``user`` but what the scope uses (a stand-in that carries only the
    role and the id is passed).  The scope still decides: a manager's statement is the
    manager's condition with the caller's id, an admin's has none, and a user whose form
    is "nothing" finds nothing without a query.  The tests compare it with the queryset
    for every role.
    """

    def __init__(self, build: Callable[..., QuerySet[M]], *kinds: type, paged: bool = False) -> None:
        self.build = build
        self.kinds = kinds
        self.paged = paged  # a page of the rows: each call ends with LIMIT and OFFSET (``Prepared``)
        self._by_shape: dict[str, Prepared[M]] = {}

    def _prepared(self, shape: str) -> Prepared[M]:
        prepared = self._by_shape.get(shape)
        if prepared is None:  # cheap to make: it compiles on its first call, once, under its lock
            build, kinds, paged = self.build, self.kinds, self.paged
            if shape == EVERYTHING:  # no condition, so no id to bind
                prepared = Prepared(lambda *values: build(_stand_in(shape, 0), *values), *kinds, paged=paged)
            else:
                prepared = Prepared(
                    lambda uid, *values: build(_stand_in(shape, uid), *values), int, *kinds, paged=paged
                )
            prepared = self._by_shape.setdefault(shape, prepared)
        return prepared

    def __call__(self, user: Any, *values: Any) -> list[M]:
        shape = scope_shape(user)
        if shape == NOTHING:
            return []
        if shape == EVERYTHING:
            return self._prepared(shape)(*values)
        return self._prepared(shape)(int(user.pk), *values)
