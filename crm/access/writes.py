"""Writes stay inside the record scope: the rules every create and update obeys.

Reading is decided by :mod:`crm.access.scope`; these are its counterpart for writing,
applied by the generic writes in ``crm.core.services`` to every record of every app,
whatever the channel (API, pages, admin site, commands, imports):

* **A record stays within reach.**  After the write, the writer must still see the
  record: nobody moves a customer to a team or owner they cannot see, nor a record to a
  customer they cannot see (the API's related fields already refuse such ids).  Who
  may change an owner or a team at all is the customer service's rule on top of this.
* **What a record is about stays fixed** where the model says so in ``fixed_fields``
  (an alert's customer, rule and subject: a risk elsewhere is another alert).  Other
  records may move between customers the writer sees (a contact who changes company),
  never to one they do not.
* **Linked records belong to the same customer.**  A record that names a contact, an
  order, a service record (anything that itself belongs to a customer) must name one of
  its own customer's.
* **People named on a record can see it.**  An assignee, a handler, a sales rep: every
  user a customer's record points to must be able to see that customer when the value
  is set or changed.

Writers that see every customer (admins, integrations) and the system itself (jobs,
no actor) are still bound by the second, third and fourth rule: they keep the data
consistent, not just private.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext as _

from crm.audit.services import customer_id_of
from crm.core.errors import OutOfScope

from .scope import customers_visible_to, scoped_queryset, sees_everything


def _scope_field(model: type[models.Model]) -> str | None:
    """The relation through which ``model`` reaches its customer (``customer``,
    ``alert``), or None for the customer itself and for company-wide records."""
    path = getattr(model, "scope_path", None)
    if not path:
        return None
    return str(path).split("__")[0]


def fixed_fields(model: type[models.Model]) -> tuple[str, ...]:
    """The fields of ``model`` that no update may change (its ``fixed_fields``)."""
    return tuple(getattr(model, "fixed_fields", ()))


def _foreign_keys(instance: models.Model) -> list[models.ForeignKey[Any, Any]]:
    return [f for f in instance._meta.concrete_fields if isinstance(f, models.ForeignKey)]


def stored_values(instance: models.Model) -> dict[str, Any]:
    """A record's field values by field name (ids for relations), taken before a write
    to compare with what the write leaves.  Columns the database computes (generated
    fields) are never written, and cannot be read before the record is saved."""
    return {f.name: getattr(instance, f.attname) for f in instance._meta.concrete_fields if not f.generated}


def check_write(
    *,
    actor: Any,
    instance: models.Model,
    before: Mapping[str, Any] | None,
    known: dict[tuple[int, int], bool] | None = None,
) -> None:
    """Apply the rules above to ``instance`` as it is about to be saved.

    ``before`` holds its values before the write (:func:`stored_values`), or is None for
    a new record.  ``known`` keeps, across the records of one write of many, whether a
    person sees a customer (asked once per pair).  Raises :class:`OutOfScope` naming the
    fields at fault; nothing is written then.
    """
    model = type(instance)
    customer_id = customer_id_of(instance)
    now = stored_values(instance)
    errors: dict[str, list[str]] = {}
    if before is not None:
        for name in fixed_fields(model):
            if now[name] != before[name]:
                errors[name] = [_("This cannot be changed once the record exists.")]
    user_model = settings.AUTH_USER_MODEL.lower()
    for field in _foreign_keys(instance):
        unchanged = before is not None and before[field.name] == now[field.name]
        if unchanged or now[field.name] is None or customer_id is None or field.name in errors:
            continue
        target = field.related_model
        if target._meta.label_lower == user_model:
            if getattr(model, "scope_path", None) == "":
                continue  # a customer's owner is the scope itself: the customer service rules on it
            pair = (now[field.name], customer_id)
            if known is None or pair not in known:
                sees = customers_visible_to(getattr(instance, field.name)).filter(pk=customer_id).exists()
                if known is None:
                    known = {}
                known[pair] = sees
            if not known[pair]:
                errors[field.name] = [_("This person cannot see the customer.")]
        elif getattr(target, "scope_path", None) == "customer" and field.name != _scope_field(model):
            if getattr(instance, field.name).customer_id != customer_id:
                errors[field.name] = [_("This record belongs to another customer.")]
    if errors:
        raise OutOfScope(_("Some values do not belong with this record."), field_errors=errors)


def check_still_visible(*, actor: Any, instance: models.Model, fields: Mapping[str, Any] | None = None) -> None:
    """After the write (inside its transaction): the writer must still see the record.

    ``fields`` names the values the writer changed, for the message; the write is
    rolled back by the exception.
    """
    if actor is None or not getattr(actor, "is_authenticated", False) or sees_everything(actor):
        return
    model = type(instance)
    if getattr(model, "scope_path", None) is None:
        return
    if scoped_queryset(model, actor).filter(pk=instance.pk).exists():
        return
    names = [name for name in (fields or {}) if name in _scope_deciding(model)] or ["non_field_errors"]
    raise OutOfScope(field_errors={name: [_("With this value the record would leave your reach.")] for name in names})


def _scope_deciding(model: type[models.Model]) -> set[str]:
    first = _scope_field(model)
    if first:
        return {first}
    return {"owner", "team"}
