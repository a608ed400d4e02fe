"""The input rules (crm.core.validation) hold on every channel: the API, the HTML forms,
the admin site and the services that commands and imports call; and in query parameters.

Dates lie in CRM_DATE_MIN..CRM_DATE_MAX, long texts within CRM_TEXT_MAX_LENGTH, text has
no control characters, numbers and dates are written with the digits 0-9.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from customers.models import Activity, Customer
from customers.services import customer_create
from tests.factories import ActivityFactory, CustomerFactory
from transactions.services import transaction_create

pytestmark = pytest.mark.django_db
CUSTOMERS, ORDERS, FOLLOW_UPS = "/api/v1/customers/", "/api/v1/transactions/", "/api/v1/activities/"
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def _refused(response: Any, field: str) -> str:
    """The message the 400 gives for ``field``."""
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid" and field in body["fields"], body
    return " ".join(body["fields"][field])


# ------------------------------------------------------------------ dates
@pytest.mark.parametrize("day", ["0001-01-01", "1899-12-31", "2200-01-01", "9999-12-31"])
def test_dates_outside_the_business_range_are_refused_by_the_api(api: Any, admin_user: Any, day: str) -> None:
    client = api(admin_user)
    customer = CustomerFactory(owner=admin_user)
    order = {"customer": customer.pk, "amount": "10.00", "order_date": "2026-01-05"}
    assert "1900-01-01" in _refused(client.post(ORDERS, {**order, "order_date": day}, format="json"), "order_date")
    _refused(client.post(ORDERS, {**order, "due_date": day}, format="json"), "due_date")
    _refused(client.post(CUSTOMERS, {"name": "远古公司", "customer_since": day}, format="json"), "customer_since")
    follow_up = {"customer": customer.pk, "kind": "call", "subject": "回访", "due_at": f"{day}T12:00:00Z"}
    _refused(client.post(FOLLOW_UPS, follow_up, format="json"), "due_at")
    assert not Customer.objects.filter(name="远古公司").exists()


def test_the_first_and_last_day_of_the_range_are_accepted(api: Any, admin_user: Any) -> None:
    """A date outside the business (a contact's birthday) may be anywhere in the range."""
    client = api(admin_user)
    customer = CustomerFactory(owner=admin_user)
    for day in ("1900-01-01", "2199-12-31"):
        response = client.post(
            "/api/v1/contacts/", {"customer": customer.pk, "name": f"联系人 {day}", "birthday": day}, format="json"
        )
        assert response.status_code == 201, response.content
        assert response.json()["birthday"] == day


# ------------------------------------------------------------------ business dates
def _days(offset: int) -> str:
    return (timezone.localdate() + dt.timedelta(days=offset)).isoformat()


@pytest.mark.parametrize(
    ("url", "field", "value"),
    [
        (ORDERS, "order_date", "1900-03-01"),  # an order in 1900
        (ORDERS, "order_date", "2099-03-01"),  # placed in 2099: not yet
        (ORDERS, "due_date", "2199-03-01"),  # due beyond any plan
        (FOLLOW_UPS, "due_at", "1900-03-01T09:00:00+08:00"),  # a follow-up due in 1900
        (FOLLOW_UPS, "done_at", "2099-03-01T09:00:00+08:00"),  # done in 2099
        (FOLLOW_UPS, "occurred_at", "2099-03-01T09:00:00+08:00"),
        (CUSTOMERS, "customer_since", "2199-01-01"),
    ],
)
def test_dates_out_of_the_business_range_are_refused_in_words(
    api: Any, admin_user: Any, url: str, field: str, value: str
) -> None:
    customer = CustomerFactory(owner=admin_user)
    payloads = {
        ORDERS: {"customer": customer.pk, "amount": "10.00", "order_date": _days(-3)},
        FOLLOW_UPS: {"customer": customer.pk, "kind": "call", "subject": "回访", "done": True,
                     "done_at": f"{_days(-1)}T09:00:00+08:00"},  # fmt: skip
        CUSTOMERS: {"name": "范围测试公司"},
    }
    before = (Customer.objects.count(), Activity.objects.count())
    response = api(admin_user).post(url, {**payloads[url], field: value}, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans")
    message = _refused(response, field)
    assert "请填写" in message and "1980-01-01" in message, message
    assert (Customer.objects.count(), Activity.objects.count()) == before


def test_the_business_range_is_a_setting_and_moves_with_today(api: Any, admin_user: Any) -> None:
    customer = CustomerFactory(owner=admin_user)
    client = api(admin_user)
    order = {"customer": customer.pk, "amount": "10.00"}
    assert client.post(ORDERS, {**order, "order_date": "1980-01-01"}, format="json").status_code == 201
    planned = client.post(ORDERS, {**order, "order_date": _days(0), "due_date": _days(3000)}, format="json")
    assert planned.status_code == 201, planned.content
    with override_settings(CRM_BUSINESS_DATE_MIN=dt.date(2010, 1, 1), CRM_BUSINESS_YEARS_AHEAD=1):
        assert "2010-01-01" in _refused(client.post(ORDERS, {**order, "order_date": "2009-12-31"}, format="json"),
                                        "order_date")  # fmt: skip
        _refused(client.post(ORDERS, {**order, "order_date": _days(0), "due_date": _days(400)}, format="json"),
                 "due_date")  # fmt: skip


def test_an_old_out_of_range_date_does_not_block_other_edits(api: Any, admin_user: Any) -> None:
    order = transaction_create(
        actor=admin_user, data={"customer": CustomerFactory(owner=admin_user), "amount": "10.00",
                                "order_date": dt.date(2026, 1, 5)}  # fmt: skip
    )
    type(order).objects.filter(pk=order.pk).update(order_date=dt.date(1901, 1, 1))  # as an old import left it
    client = api(admin_user)
    etag = client.get(f"{ORDERS}{order.pk}/")["ETag"]
    response = client.patch(f"{ORDERS}{order.pk}/", {"description": "补记"}, format="json", HTTP_IF_MATCH=etag)
    assert response.status_code == 200, response.content


def test_the_range_is_a_setting(api: Any, admin_user: Any) -> None:
    with override_settings(CRM_DATE_MIN=dt.date(2000, 1, 1), CRM_DATE_MAX=dt.date(2099, 12, 31)):
        message = _refused(
            api(admin_user).post(CUSTOMERS, {"name": "x", "customer_since": "1999-12-31"}, format="json"),
            "customer_since",
        )
    assert "2000-01-01" in message and "2099-12-31" in message


def test_services_refuse_out_of_range_dates_for_commands_and_imports(admin_user: Any) -> None:
    customer = CustomerFactory(owner=admin_user)
    with pytest.raises(ValidationError) as refused:
        transaction_create(
            actor=admin_user,
            data={"customer": customer, "amount": "10.00", "order_date": dt.date(1, 1, 1), "due_date": "9999-12-31"},
        )
    assert set(refused.value.message_dict) == {"order_date", "due_date"}
    with pytest.raises(ValidationError) as refused:
        customer_create(
            actor=admin_user, data={"name": "x", "owner": admin_user, "customer_since": dt.date(9999, 12, 31)}
        )
    assert "customer_since" in refused.value.message_dict


def test_query_parameters_out_of_range_are_a_400(api: Any, admin_user: Any) -> None:
    client = api(admin_user)
    _refused(client.get(CUSTOMERS, {"created_after": "0001-01-01T00:00:00Z"}), "created_after")
    _refused(client.get(CUSTOMERS, {"created_before": "9999-12-31T23:59:59Z"}), "created_before")
    assert client.get(CUSTOMERS, {"created_after": "2020-01-01T00:00:00Z"}).status_code == 200


# ------------------------------------------------------------------ digits
@pytest.mark.parametrize("digits", ["١٢٣", "۱۲۳", "１２３", "१२३"])
def test_numbers_and_dates_take_only_the_digits_0_to_9_on_the_api(api: Any, admin_user: Any, digits: str) -> None:
    client = api(admin_user)
    assert "0-9" in _refused(
        client.post(CUSTOMERS, {"name": "x", "employee_count": digits}, format="json"), "employee_count"
    )
    _refused(client.post(CUSTOMERS, {"name": "x", "annual_revenue": digits}, format="json"), "annual_revenue")
    _refused(
        client.post(CUSTOMERS, {"name": "x", "customer_since": f"2024-01-1{digits[0]}"}, format="json"),
        "customer_since",
    )
    _refused(client.get(CUSTOMERS, {"influence_min": digits}), "influence_min")
    assert not Customer.objects.exists()
    created = client.post(CUSTOMERS, {"name": "x", "employee_count": "123", "annual_revenue": "1.50"}, format="json")
    assert created.status_code == 201 and created.json()["employee_count"] == 123


def test_a_record_chosen_by_id_takes_only_the_digits_0_to_9(api: Any, admin_user: Any) -> None:
    customer = CustomerFactory(owner=admin_user)
    arabic = str(customer.pk).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    client = api(admin_user)
    order = {"customer": arabic, "amount": "10.00", "order_date": "2026-01-05"}
    assert "0-9" in _refused(client.post(ORDERS, order, format="json"), "customer")
    _refused(client.get(FOLLOW_UPS, {"customer": arabic}), "customer")
    assert client.post(ORDERS, {**order, "customer": str(customer.pk)}, format="json").status_code == 201


def test_services_refuse_other_digits_given_as_text(admin_user: Any) -> None:
    with pytest.raises(ValidationError) as refused:
        customer_create(actor=admin_user, data={"name": "x", "owner": admin_user, "employee_count": "١٢٣"})
    assert "employee_count" in refused.value.message_dict


# ------------------------------------------------------------------ text
def test_long_text_is_bounded_by_a_setting(api: Any, admin_user: Any) -> None:
    client = api(admin_user)
    with override_settings(CRM_TEXT_MAX_LENGTH=20):
        assert "20" in _refused(client.post(CUSTOMERS, {"name": "x", "notes": "长" * 21}, format="json"), "notes")
        assert client.post(CUSTOMERS, {"name": "y", "notes": "长" * 20}, format="json").status_code == 201
    _refused(client.post(CUSTOMERS, {"name": "z", "notes": "x" * 10_001}, format="json"), "notes")
    assert client.post(CUSTOMERS, {"name": "z", "notes": "x" * 10_000}, format="json").status_code == 201


@pytest.mark.parametrize("control", ["\x00", "\x07", "\x1b[31m", "\x7f", "\u0085", "\u009f"])
def test_control_characters_are_refused_in_text(api: Any, admin_user: Any, control: str) -> None:
    client = api(admin_user)
    assert client.post(CUSTOMERS, {"name": f"a{control}b"}, format="json").status_code == 400
    assert client.post(CUSTOMERS, {"name": "ok", "notes": f"a{control}b"}, format="json").status_code == 400
    assert not Customer.objects.exists()


def test_tabs_and_line_breaks_are_text(api: Any, admin_user: Any) -> None:
    response = api(admin_user).post(CUSTOMERS, {"name": "ok", "notes": "一\t二\r\n三"}, format="json")
    assert response.status_code == 201 and response.json()["notes"] == "一\t二\r\n三"


# ------------------------------------------------------------------ the other channels
def test_html_forms_show_the_refusal_at_the_field(rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    client = Client()
    client.force_login(rep1)
    url = reverse("customers:section-new", args=[customer.pk, "transactions"])
    for field, value in (("order_date", "0001-01-01"), ("amount", "١٢٣"), ("notes", "a\x1bb")):
        data = {"order_date": "2026-01-05", "amount": "10.00", "status": "pending", field: value}
        response = client.post(url, data)
        assert response.status_code == 422, (field, response.status_code)
        assert field in response.context["form"].errors, (field, response.context["form"].errors)
    assert not customer.transactions.exists()  # type: ignore[attr-defined]


def test_the_admin_site_shows_the_refusal_at_the_field(admin_user: Any) -> None:
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    activity = ActivityFactory(customer__owner=admin_user)
    client = Client()
    client.force_login(admin_user)
    url = reverse("admin:customers_activity_change", args=[activity.pk])
    form = client.get(url).context["adminform"].form
    data = {name: form.initial.get(name) or "" for name in form.fields}
    data.update({"customer": activity.customer_id, "kind": "call", "subject": "回访\x1b", "outcome": "x"})
    data.update({"due_at_0": "2026-01-05", "due_at_1": "10:00:00", "occurred_at_0": "", "occurred_at_1": ""})
    response = client.post(url, {k: v for k, v in data.items() if v is not None})
    assert response.status_code == 200  # the form again, not a 500
    assert "subject" in response.context["adminform"].form.errors
    activity.refresh_from_db()
    assert "\x1b" not in activity.subject


def test_a_value_stored_before_the_rules_does_not_block_other_edits(api: Any, admin_user: Any) -> None:
    customer = CustomerFactory(owner=admin_user)
    Customer.objects.filter(pk=customer.pk).update(customer_since=dt.date(1, 1, 1))  # as an old import left it
    client = api(admin_user)
    etag = client.get(f"{CUSTOMERS}{customer.pk}/")["ETag"]
    response = client.patch(f"{CUSTOMERS}{customer.pk}/", {"city": "苏州"}, format="json", HTTP_IF_MATCH=etag)
    assert response.status_code == 200, response.content


# ------------------------------------------------------------------ rendering
def test_times_are_rendered_with_an_rfc3339_offset_even_before_1901(api: Any, admin_user: Any) -> None:
    early, late = ActivityFactory(customer__owner=admin_user), ActivityFactory(customer__owner=admin_user)
    # Stored before the range was enforced: Shanghai kept local mean time (+08:05:43) then.
    Activity.objects.filter(pk=early.pk).update(due_at=dt.datetime(1899, 6, 1, 12, tzinfo=dt.UTC))
    Activity.objects.filter(pk=late.pk).update(due_at=dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC))
    client = api(admin_user)
    old = client.get(f"{FOLLOW_UPS}{early.pk}/").json()["due_at"]
    new = client.get(f"{FOLLOW_UPS}{late.pk}/").json()["due_at"]
    assert RFC3339.match(old) and old == "1899-06-01T12:00:00Z", old
    assert RFC3339.match(new) and new == "2026-06-01T20:00:00+08:00", new


def test_the_user_admin_keeps_the_input_rules(client: Any, rep1: Any) -> None:
    """Django's own user pages too: a control character in a user's title is shown at the
    form, never a failed save."""
    from tests.factories import UserFactory

    superuser = UserFactory(username="root", role="admin", is_staff=True, is_superuser=True)
    client.force_login(superuser)
    page = client.get(f"/admin/accounts/user/{rep1.pk}/change/")
    form = page.context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name != "password"}
    data.update({"title": "经理\x07", "date_joined_0": "2026-01-01", "date_joined_1": "09:00:00"})
    data["groups"] = []
    data["user_permissions"] = []
    response = client.post(f"/admin/accounts/user/{rep1.pk}/change/", data)
    assert response.status_code == 200
    rep1.refresh_from_db()
    assert "\x07" not in rep1.title
    data["title"] = "经理"
    assert client.post(f"/admin/accounts/user/{rep1.pk}/change/", data).status_code == 302
    rep1.refresh_from_db()
    assert rep1.title == "经理"


def test_a_bulk_tag_with_control_characters_is_refused(manager: Any, rep1: Any) -> None:
    from crm.core.errors import DomainError
    from customers.services import customer_bulk_tag

    customer = CustomerFactory(owner=rep1)
    for tag in ("重点\x07", "\x1b[31m红", "a\u0085b"):
        with pytest.raises(DomainError):
            customer_bulk_tag(actor=manager, ids=[customer.pk], tag=tag)
    customer.refresh_from_db()
    assert customer.tags == []
