"""Every kind of background job gets the same API and pages from one base
(``crm.core.api.JobViewSet``, ``crm.core.pages.JobListView`` / ``JobStartView``): the
walk finds them in the registry and the URLconf, so a new kind is checked without a
line here."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from crm.access.registry import all_resources
from crm.core.api import JobViewSet
from crm.core.pages import JobListView, JobStartView
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def _job_resources() -> list[str]:
    return [resource.name for resource in all_resources() if issubclass(resource.viewset, JobViewSet)]


def _pages(kind: type) -> list[tuple[str, Any]]:
    """(address, view class) of every page built on ``kind``."""
    found = []

    def walk(patterns: list[Any], prefix: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                view = getattr(pattern.callback, "view_class", None)
                if view is not None and issubclass(view, kind):
                    found.append(("/" + prefix + str(pattern.pattern), view))

    walk(get_resolver().url_patterns, "")
    return found


def test_the_walk_finds_every_kind_of_job() -> None:
    assert set(_job_resources()) == {"tier-runs", "risk-scans"}
    assert {view.resource for _url, view in _pages(JobListView)} == set(_job_resources())
    assert {view.resource for _url, view in _pages(JobStartView)} == set(_job_resources())


@pytest.mark.parametrize("resource", _job_resources())
def test_a_job_is_started_over_the_api_by_managers_only_and_once(
    api: Any, rep1: Any, manager: Any, resource: str
) -> None:
    CustomerFactory(owner=rep1)  # a job over an empty book is done at once
    url = f"/api/v1/{resource}/"
    assert api(rep1).post(f"{url}start/").status_code == 403
    assert api(manager).post(url, {}, format="json").status_code == 405, "there is no create"
    started = api(manager).post(f"{url}start/")
    assert started.status_code == 202, started.content
    again = api(manager).post(f"{url}start/")
    assert again.status_code == 202 and again.json()["id"] == started.json()["id"], "the active job is returned"
    listed = api(rep1).get(url).json()["results"]
    assert [row["id"] for row in listed] == [started.json()["id"]]


@pytest.mark.parametrize(("url", "view"), _pages(JobListView))
def test_the_jobs_page_offers_the_start_button_to_who_may_start(
    client: Any, rep1: Any, manager: Any, url: str, view: Any
) -> None:
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    client.force_login(rep1)
    page = client.get(url)
    assert page.status_code == 200 and not page.context["may_start"]
    assert str(view.empty) in page.content.decode()
    client.force_login(manager)
    assert client.get(url).context["may_start"]


@pytest.mark.parametrize(("url", "view"), _pages(JobStartView))
def test_the_start_button_starts_one_job_for_managers_only(
    client: Any, rep1: Any, manager: Any, url: str, view: Any
) -> None:
    CustomerFactory(owner=rep1)
    model = next(page.model for _u, page in _pages(JobListView) if page.resource == view.resource)
    client.force_login(rep1)
    assert client.post(url).status_code == 403
    assert model.objects.count() == 0
    client.force_login(manager)
    assert client.get(url).status_code == 405
    response = client.post(url, follow=True)
    assert response.redirect_chain and response.status_code == 200
    assert model.objects.count() == 1
    job = model.objects.get()
    assert str(job.pk) in " ".join(str(message) for message in response.context["messages"])
    client.post(url)
    assert model.objects.count() == 1, "starting while one is active gives that one"


def test_a_kind_of_job_must_declare_how_it_starts() -> None:
    with pytest.raises(TypeError, match="start_job"):
        type("Incomplete", (JobViewSet,), {})
    with pytest.raises(TypeError, match="start_job, started"):
        type("IncompleteStart", (JobStartView,), {"resource": "tier-runs", "back_to": "tiers:runs"})
