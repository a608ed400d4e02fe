"""What every console page shares: who may open it, and how it is listed in the console.

The console (``/console/``) is the admins' place. Its shell (overview, field
permissions, users, teams, roles, API tokens, audit log) lives in ``crm.console``; an
app adds its own settings pages by giving a ``console`` module with ``urlpatterns``
(mounted under ``/console/`` in the ``console`` namespace) and ``navigation`` (a list
of :class:`ConsoleLink`), built from :class:`AdminOnly` views.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin, UserPassesTestMixin
from django.http import HttpRequest


class AdminOnly(LoginRequiredMixin, UserPassesTestMixin):
    """Admins only: a signed-in non-admin gets 403, a visitor is sent to sign in."""

    request: HttpRequest

    def test_func(self) -> bool:
        return bool(getattr(self.request.user, "is_admin", False))


@dataclass(frozen=True)
class ConsoleLink:
    """One tab of the console's navigation.

    ``url_name`` is the page's name in the ``console`` namespace; the tab is shown active
    on that page and on the pages under it, and on those named in ``also``; ``exact``
    makes it active on its own address only (the overview, at the console's root).
    """

    label: Any
    url_name: str
    also: tuple[str, ...] = ()
    exact: bool = False
