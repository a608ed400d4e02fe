"""Every page that writes asks the registry (``crm.access.registry.may``) whether the
user's role may do it, as the API's permission class does: found by walking the URLconf,
so a new page that writes without asking fails here."""

from __future__ import annotations

import inspect
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

from crm.core.pages import AdminOnly, JobStartView
from tests.project import top_packages

#: Pages that write, whose question is not the registry's, with the reason.
REVIEWED = {
    "workspace.views.saved_view_save_view": "a user's own saved filters, not a record of the book",
    "workspace.views.saved_view_delete_view": "a user's own saved filters, not a record of the book",
    "workspace.views.bulk_view": "its services ask the registry (bulk_assign, bulk_tag)",
    "workspace.views.section_view": "reads one section of the 360 page",
    "crm.accounts.views.notifications_read_view": "marks the user's own notifications read",
}


def _views() -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []

    def walk(patterns: list[Any], prefix: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                found.append((prefix + str(pattern.pattern), pattern.callback))

    walk(get_resolver().url_patterns, "")
    return found


def _ours(callback: Any) -> bool:
    view = getattr(callback, "view_class", callback)
    module = getattr(view, "__module__", "")
    # crm.core.views answers health checks and unknown addresses; it writes nothing.
    return module.split(".")[0] in top_packages() and not module.startswith("crm.core.views")


def _writes(callback: Any) -> bool:
    view = getattr(callback, "view_class", None)
    if view is not None:
        return any(hasattr(view, method) for method in ("post", "put", "patch", "delete"))
    source = inspect.getsource(inspect.unwrap(callback))
    return "POST" in source or "require_POST" in source or "submit(" in source


def test_every_page_that_writes_asks_the_registry() -> None:
    unasked = []
    for route, callback in _views():
        if route.startswith(("api/", "admin/", "api-auth/", "accounts/", "i18n/")) or not _ours(callback):
            continue
        if not _writes(callback):
            continue
        view = getattr(callback, "view_class", None)
        name = f"{callback.__module__}.{getattr(view, '__name__', callback.__name__)}"
        if name in REVIEWED:
            continue
        if view is not None and issubclass(view, (AdminOnly, JobStartView)):
            continue  # the console is the admins' (AdminOnly); a job's start asks ``may``
        source = inspect.getsource(view if view is not None else inspect.unwrap(callback))
        if "may(" not in source and "_manages(" not in source and "_may_start(" not in source:
            unasked.append(f"/{route} ({name})")
    assert unasked == [], unasked


def test_the_walk_sees_the_pages_that_write() -> None:
    names = {f"{cb.__module__}.{getattr(getattr(cb, 'view_class', cb), '__name__', '')}" for _r, cb in _views()}
    assert {"workspace.views.section_form_view", "risk.views.status_view", "tiers.views.StartView"} <= names
