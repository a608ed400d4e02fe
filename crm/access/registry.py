"""The one list of resources, and the one answer to "may this user do that to it?".

A *resource* is a kind of record the product exposes: ``customers``, ``transactions``,
``risk-alerts`` … Its name is the API route (``/api/v1/customers/``), the scope API
tokens name (``customers:write``), the field policy's first key and the export's file
name.  Each app declares its resources once, in its own ``resources.py``::

    register(
        Resource("customers", CustomerViewSet, basename="customer", delete=MANAGERS,
                 actions={"bulk_assign": MANAGERS}),
    )

and everything that works across resources reads this registry: the API router, the
field-policy grid and its checks, token scopes, the audit view's masking, the HTML
pages' edit buttons.  No module needs the URLconf to learn what exists.

Reading is decided by the record scope (``crm.access.scope``) and the field policy;
*writing* is decided here, by :func:`may`, for the API and the pages alike.  A role
not listed for an act may not do it, whatever the channel.

The apps' ``resources`` modules are imported the first time the registry is read
(after Django has loaded every app), in the order of ``INSTALLED_APPS``, which is the
order of the API's index.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.db.models import Model
from django.utils.module_loading import autodiscover_modules

from crm.accounts.choices import Role

STAFF_ROLES = frozenset({Role.REP, Role.MANAGER, Role.ADMIN, Role.INTEGRATION})
#: Managers, admins and integrations: the people (and systems) who act for a team.
MANAGERS = frozenset({Role.MANAGER, Role.ADMIN, Role.INTEGRATION})
ADMINS = frozenset({Role.ADMIN})
NOBODY: frozenset[str] = frozenset()

#: The acts every resource has; anything else is one of its named ``actions``.
CREATE, UPDATE, DELETE = "create", "update", "delete"


def role_of(user: Any) -> str:
    """The role whose rights the user has: a superuser is an admin."""
    return Role.ADMIN if getattr(user, "is_superuser", False) else str(user.role)


@dataclass(frozen=True)
class Resource:
    """One kind of record, with who may create, update, delete it and run each action.

    ``update`` defaults to every staff role, ``create`` to whoever may update and
    ``delete`` likewise; ``actions`` names the extra acts (an API action such as
    ``start`` or a page's bulk change) with the roles that may do them.  An action not
    named there counts as an update.  ``governed`` says whether the field policy
    decides which of the resource's fields each role reads and writes; it must agree
    with the viewset's serializer, which is checked when the resource is registered.
    ``archive`` places the resource in a customer's archive workbook (``crm.core.archive``).
    """

    name: str
    viewset: Any
    basename: str
    update: frozenset[str] = STAFF_ROLES
    create: frozenset[str] | None = None
    delete: frozenset[str] | None = None
    actions: Mapping[str, frozenset[str]] = field(default_factory=dict)
    governed: bool = False
    #: Where the resource stands in a customer's archive workbook: its place and the
    #: sheet's title (``None``: not part of it).  Its model links to the customer.
    archive: tuple[int, Any] | None = None
    #: Other names people give a field in their spreadsheets (客户名称, 公司名称 …), for
    #: matching an imported file's headers; the field's own names in both languages
    #: are known without being listed.
    synonyms: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def model(self) -> type[Model]:
        return self.viewset.model  # type: ignore[no-any-return]

    @property
    def fields(self) -> list[str]:
        """The field names of the resource's API representation."""
        return list(self.viewset.serializer_class().fields)

    def roles(self, action: str) -> frozenset[str]:
        """The roles that may do ``action`` (``create``, ``update``, ``delete`` or a named one)."""
        if action in self.actions:
            return self.actions[action]
        if action == CREATE:
            return self.create if self.create is not None else self.update
        if action == DELETE:
            return self.delete if self.delete is not None else self.update
        return self.update


_resources: dict[str, Resource] = {}
_discovered = False
_lock = threading.RLock()


def register(*resources: Resource) -> None:
    """Declare resources; called by each app's ``resources`` module."""
    for resource in resources:
        viewset = resource.viewset
        if getattr(viewset, "resource", None) != resource.name:
            raise ImproperlyConfigured(f"{viewset.__name__}.resource must be {resource.name!r}")
        # A serializer that follows the field policy names the resource whose policy it follows.
        policy_resource = getattr(getattr(viewset, "serializer_class", None), "policy_resource", None)
        if (policy_resource == resource.name) != resource.governed:
            raise ImproperlyConfigured(f"{resource.name}: governed={resource.governed} but its serializer disagrees")
        known = _resources.get(resource.name)
        if known is not None and known.viewset is not viewset:
            raise ImproperlyConfigured(f"The resource {resource.name!r} is declared twice.")
        _resources[resource.name] = resource


def _discover() -> None:
    global _discovered
    if _discovered:
        return
    with _lock:
        if not _discovered:
            autodiscover_modules("resources")
            _discovered = True


def all_resources() -> tuple[Resource, ...]:
    """Every resource, in the order of the API's index."""
    _discover()
    return tuple(_resources.values())


def by_name() -> Mapping[str, Resource]:
    _discover()
    return MappingProxyType(_resources)


def get_resource(name: str) -> Resource | None:
    return by_name().get(name)


def resource_names() -> list[str]:
    """The names API tokens may be scoped to, sorted."""
    return sorted(by_name())


def governed_resources() -> list[Resource]:
    """The resources whose fields the field policy governs, in the order of the API's index."""
    return [resource for resource in all_resources() if resource.governed]


def archive_resources() -> list[Resource]:
    """The resources of a customer's archive workbook, in the order of its sheets."""
    placed = [resource for resource in all_resources() if resource.archive is not None]
    return sorted(placed, key=lambda resource: resource.archive[0] if resource.archive else 0)


def resource_of_model(label: str) -> Resource | None:
    """The resource that shows the model ``label`` (``customers.customer``), if any."""
    for resource in all_resources():
        if resource.model._meta.label_lower == label:
            return resource
    return None


def _model_label(model: Any, path: list[str]) -> str | None:
    """The translated verbose name along a model path (``customer.name`` → "客户 · 名称")."""
    labels = []
    for part in path:
        try:
            model_field = model._meta.get_field(part)
        except FieldDoesNotExist:  # a property or a method, not a model field
            return None
        labels.append(str(getattr(model_field, "verbose_name", part)))
        model = getattr(model_field, "related_model", None)
        if model is None:
            break
    return " · ".join(labels) if len(labels) == len(path) else None


def field_labels(viewset: Any) -> list[tuple[str, str]]:
    """Each field of a resource with the name users know it by, in the active language:
    the model's verbose name where the field comes from the model, else the serializer's
    label.  The console's grid, the exports' headers and the imports' mapping use it."""
    labels = []
    for name, shown in viewset.serializer_class().fields.items():
        source = shown.source if shown.source not in (None, "*") else name
        label = _model_label(viewset.model, source.split(".")) or str(shown.label or name)
        labels.append((name, label[:1].upper() + label[1:]))
    return labels


def may(user: Any, action: str, resource: str | Resource) -> bool:
    """Whether the user's role may do ``action`` to records of ``resource`` at all.

    Which *records* they may do it to is the record scope's answer, and which *fields*
    the field policy's; this is the question before both, asked by the API's permission
    class, the pages and the services alike.  An unknown resource is refused.
    """
    if not (user is not None and getattr(user, "is_authenticated", False) and getattr(user, "is_active", False)):
        return False
    found = get_resource(resource) if isinstance(resource, str) else resource
    if found is None:
        return False
    return role_of(user) in found.roles(action)
