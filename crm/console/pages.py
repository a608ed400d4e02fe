"""The console's pages: its own shell, and those the apps add in their ``console`` modules.

An app adds a console page by giving a ``console`` module (``risk/console.py``) with
``urlpatterns`` and ``navigation``; nothing here names it.  The tabs run: the shell's,
then each app's in the order of ``INSTALLED_APPS``, then the audit log.
"""

from __future__ import annotations

from functools import cache
from importlib import import_module
from types import ModuleType
from typing import Any

from django.apps import apps
from django.urls import URLPattern, URLResolver, reverse
from django.utils.module_loading import module_has_submodule
from django.utils.translation import gettext_lazy as _

from crm.core.pages import ConsoleLink

SHELL_FIRST = [
    ConsoleLink(_("Overview"), "home", exact=True),
    ConsoleLink(_("Field permissions"), "fields"),
    ConsoleLink(_("Users"), "users"),
    ConsoleLink(_("Teams"), "teams"),
    ConsoleLink(_("Roles"), "roles"),
    ConsoleLink(_("API tokens"), "tokens"),
]
SHELL_LAST = [ConsoleLink(_("Audit log"), "audit")]


@cache
def app_modules() -> tuple[ModuleType, ...]:
    """The ``console`` modules of the installed apps, in the order of ``INSTALLED_APPS``."""
    return tuple(
        import_module(f"{config.name}.console")
        for config in apps.get_app_configs()
        if config.name != "crm.console" and module_has_submodule(config.module, "console")
    )


def app_urlpatterns() -> list[URLPattern | URLResolver]:
    return [pattern for module in app_modules() for pattern in module.urlpatterns]


def links() -> list[ConsoleLink]:
    """Every tab of the console, in order."""
    return [*SHELL_FIRST, *(link for module in app_modules() for link in module.navigation), *SHELL_LAST]


def tabs(path: str) -> list[dict[str, Any]]:
    """The tabs with their addresses, the one for ``path`` marked active."""
    shown = []
    for link in links():
        url = reverse(f"console:{link.url_name}")
        if link.exact:
            active = path == url
        else:
            active = any(reverse(f"console:{name}") in path for name in (link.url_name, *link.also))
        shown.append({"label": link.label, "url": url, "active": active})
    return shown
