"""The pages never save over a record blind: every edit form must carry the version it
was opened at, as every API write must carry its ETag.  A post without one (or with
anything that is not a number) is refused and writes nothing, on every kind of edit
form: a customer's profile, a record of a customer 360 section, an alert's workflow, a
console record."""

from __future__ import annotations

from typing import Any

import pytest

from crm.accounts.models import User
from customers.models import Contact, Customer
from risk.models import RiskAlert
from tests.factories import ContactFactory, CustomerFactory, RiskAlertFactory

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}
MISSING = [None, "", "abc", "*", "١", "9" * 5000]


def _post(client: Any, url: str, data: dict[str, Any], version: Any, **extra: Any) -> Any:
    body = dict(data)
    if version is not None:
        body["version"] = version
    return client.post(url, body, **extra)


@pytest.mark.parametrize("version", MISSING)
def test_a_section_edit_without_its_version_is_refused(client: Any, rep1: Any, version: Any) -> None:
    contact = ContactFactory(customer=CustomerFactory(owner=rep1), name="旧名字")
    client.force_login(rep1)
    url = f"/customers/{contact.customer_id}/contacts/{contact.pk}/"
    response = _post(client, url, {"name": "新"}, version, **HTMX)
    assert response.status_code in (409, 422)
    assert Contact.objects.get(pk=contact.pk).name == "旧名字"


@pytest.mark.parametrize("version", MISSING)
def test_a_profile_edit_without_its_version_is_refused(client: Any, rep1: Any, version: Any) -> None:
    customer = CustomerFactory(owner=rep1, name="原名")
    client.force_login(rep1)
    data = {"name": "新名", "kind": customer.kind, "industry": customer.industry, "lifecycle_stage": "active"}
    response = _post(client, f"/customers/{customer.pk}/profile/", data, version)
    assert response.status_code in (409, 422)
    assert Customer.objects.get(pk=customer.pk).name == "原名"


@pytest.mark.parametrize("version", MISSING)
def test_an_alert_worked_without_its_version_is_refused(client: Any, rep1: Any, version: Any) -> None:
    alert = RiskAlertFactory(customer=CustomerFactory(owner=rep1), assignee=rep1)
    client.force_login(rep1)
    response = _post(client, f"/alerts/{alert.pk}/status/", {"status": "acknowledged"}, version)
    assert response.status_code in (409, 422)
    assert RiskAlert.objects.get(pk=alert.pk).status == "open"


@pytest.mark.parametrize("version", MISSING)
def test_a_console_edit_without_its_version_is_refused(client: Any, admin_user: Any, rep1: Any, version: Any) -> None:
    client.force_login(admin_user)
    data = {"username": rep1.username, "first_name": "改", "last_name": "名", "email": "x@example.com", "role": "rep"}
    response = _post(client, f"/console/users/{rep1.pk}/", {**data, "team": rep1.team_id, "is_active": "on"}, version)
    assert response.status_code in (409, 422)
    assert User.objects.get(pk=rep1.pk).first_name != "改"


def test_the_refusal_says_to_reload(client: Any, rep1: Any) -> None:
    contact = ContactFactory(customer=CustomerFactory(owner=rep1))
    client.force_login(rep1)
    url = f"/customers/{contact.customer_id}/contacts/{contact.pk}/"
    english = client.post(url, {"name": "新"}, HTTP_ACCEPT_LANGUAGE="en", **HTMX).content.decode()
    chinese = client.post(url, {"name": "新"}, HTTP_ACCEPT_LANGUAGE="zh-hans", **HTMX).content.decode()
    assert "reload the page" in english and "请刷新页面" in chinese
