"""Page parts the apps share: the console's (who may open a console page, how it is
listed) and the background jobs' (the list of a kind of job, the button that starts one).

The console (``/console/``) is the admins' place. Its shell (overview, field
permissions, users, teams, roles, API tokens, audit log) lives in ``crm.console``; an
app adds its own settings pages by giving a ``console`` module with ``urlpatterns``
(mounted under ``/console/`` in the ``console`` namespace) and ``navigation`` (a list
of :class:`ConsoleLink`), built from :class:`AdminOnly` views.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, UserPassesTestMixin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views import View

from crm.access.registry import may

#: An id no record has, put in an address to find where the id goes (:class:`Addresses`).
_MARK = "987654321987654321"


class Addresses:
    """The address of one view for each of many records: reversed once, each record's id
    put in its place.  A queue of fifty rows shows eight addresses a row, and reversing
    each cost a tenth of the page."""

    def __init__(self, name: str) -> None:
        self._head, self._tail = reverse(name, args=[_MARK]).split(_MARK, 1)

    def __call__(self, pk: Any) -> str:
        return f"{self._head}{int(pk)}{self._tail}"


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


class JobListView(LoginRequiredMixin, View):
    """The page of a kind of background job (tier runs, risk scans): its jobs newest
    first, 25 a page, with a button to start one for those the registry lets ``start``.

    A subclass declares the ``model``, the ``resource`` (whose ``start`` action decides
    the button), its ``template`` (which extends ``jobs/list.html`` with the kind's own
    columns), the page's words and links, and what else the template needs
    (``extra_context``).
    """

    model: Any
    resource: str
    template: str
    title: Any
    #: The page above this one (its name and URL name), for the breadcrumb.
    parent: tuple[Any, str]
    #: The URL name the start button posts to, and its label.
    start: tuple[str, Any]
    #: What the table says when no job has run; what one row is called in test ids.
    empty: Any
    row_name: str
    select_related: tuple[str, ...] = ("requested_by",)
    per_page = 25

    def extra_context(self) -> dict[str, Any]:
        return {}

    def get(self, request: HttpRequest) -> HttpResponse:
        jobs = self.model.objects.select_related(*self.select_related).order_by("-id")
        page = Paginator(jobs, self.per_page).get_page(request.GET.get("page"))
        context = {
            "page": page,
            "may_start": may(request.user, "start", self.resource),
            "title": self.title,
            "parent_label": self.parent[0],
            "parent_url": self.parent[1],
            "start_url": self.start[0],
            "start_label": self.start[1],
            "empty_text": self.empty,
            "row_name": self.row_name,
            **self.extra_context(),
        }
        return render(request, self.template, context)


class JobStartView(LoginRequiredMixin, View):
    """Start a job now (POST); the workers take it from there.  Starting when one is
    already queued or running gives that one.  Refused (403) to a role the registry does
    not let ``start`` the resource; the subclass declares ``start_job(actor)``, the
    message that says what was started (``started``) and the page to go back to."""

    http_method_names = ["post"]
    resource: str
    back_to: str
    start_job: Callable[[Any], Any]
    started: Callable[[Any], str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        missing = [name for name in ("resource", "back_to", "start_job", "started") if not hasattr(cls, name)]
        if missing:
            raise TypeError(f"{cls.__name__} must declare {', '.join(missing)}")

    def post(self, request: HttpRequest) -> HttpResponse:
        if not may(request.user, "start", self.resource):
            raise PermissionDenied
        job = self.start_job(request.user)
        messages.success(request, self.started(job))
        return HttpResponseRedirect(reverse(self.back_to))
