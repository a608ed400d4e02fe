"""The field policy on the channels besides the API's JSON: CSV export, HTML forms, templates."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django import forms
from django.db import models
from django.template import Context, Template
from django.test import RequestFactory

from crm.access.forms import PolicyFormMixin
from crm.access.models import FieldPermission
from crm.audit.models import AuditEvent
from customers.models import Customer
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def _csv(response: Any) -> list[dict[str, str]]:
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


def test_export_follows_scope_filters_and_policy_and_is_audited(api: Any, rep1: Any, rep2: Any) -> None:
    mine = CustomerFactory(owner=rep1, tax_id="91310000MA1K000001", website='=HYPERLINK("http://x")')
    CustomerFactory(owner=rep1, industry="retail")
    CustomerFactory(owner=rep2)
    FieldPermission.objects.update_or_create(
        resource="customers", field="tax_id", role="rep", defaults={"level": "masked"}
    )
    FieldPermission.objects.update_or_create(
        resource="customers", field="annual_revenue", role="rep", defaults={"level": "hidden"}
    )
    rows = _csv(api(rep1).get("/api/v1/customers/export/", {"industry": "it"}))
    assert [row["id"] for row in rows] == [str(mine.pk)]  # scope and filter, as in the list
    assert "annual_revenue" not in rows[0]
    assert rows[0]["tax_id"] != "91310000MA1K000001" and rows[0]["tax_id"].endswith("0001")
    assert rows[0]["website"].startswith("'=")  # never a formula in a spreadsheet
    event = AuditEvent.objects.filter(action="export").latest("seq")
    assert event.actor_id == rep1.pk and event.changes["summary"]["after"]["query"] == {"industry": ["it"]}
    refused = api(rep1).get("/api/v1/customers/export/", {"ordering": "annual_revenue"})
    assert refused.status_code == 400


def _formfield(field: Any, **kwargs: Any) -> Any:
    if isinstance(field, models.URLField):
        kwargs["assume_scheme"] = "https"
    return field.formfield(**kwargs)


class CustomerForm(PolicyFormMixin, forms.ModelForm):
    policy_resource = "customers"

    class Meta:
        model = Customer
        fields = ["name", "website", "tax_id", "credit_limit", "annual_revenue"]
        formfield_callback = _formfield


def test_forms_drop_hidden_fields_mask_and_lock_the_rest(rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1, tax_id="91310000MA1K000001", credit_limit=500000, annual_revenue=9)
    FieldPermission.objects.update_or_create(
        resource="customers", field="tax_id", role="rep", defaults={"level": "masked"}
    )
    FieldPermission.objects.update_or_create(
        resource="customers", field="credit_limit", role="rep", defaults={"level": "read"}
    )
    FieldPermission.objects.update_or_create(
        resource="customers", field="annual_revenue", role="rep", defaults={"level": "hidden"}
    )
    form = CustomerForm(instance=customer, user=rep1)
    assert "annual_revenue" not in form.fields
    html = str(form["tax_id"])
    assert "disabled" in html and "91310000MA1K000001" not in html
    assert form.fields["credit_limit"].disabled
    crafted = CustomerForm(
        {
            "name": "新名字",
            "website": "https://a.example.com",
            "tax_id": "X",
            "credit_limit": "1",
            "annual_revenue": "1",
        },
        instance=customer,
        user=rep1,
    )
    assert crafted.is_valid(), crafted.errors
    assert crafted.writable_data() == {"name": "新名字", "website": "https://a.example.com"}
    saved = crafted.save()
    saved.refresh_from_db()
    assert saved.tax_id == "91310000MA1K000001" and saved.credit_limit == 500000 and saved.annual_revenue == 9


def test_templates_show_values_through_the_policy(rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1, tax_id="91310000MA1K000001", website="https://a.example.com")
    FieldPermission.objects.update_or_create(
        resource="customers", field="tax_id", role="rep", defaults={"level": "masked"}
    )
    FieldPermission.objects.update_or_create(
        resource="customers", field="website", role="rep", defaults={"level": "hidden"}
    )
    request = RequestFactory().get("/")
    request.user = rep1
    template = Template(
        "{% load field_policy %}[{% field_value c 'customers' 'tax_id' %}][{% field_value c 'customers' 'website' %}]"
        "[{% field_value c 'customers' 'name' %}]{% field_level 'customers' 'website' as level %}[{{ level }}]"
    )
    text = template.render(Context({"request": request, "c": customer}))
    assert "91310000MA1K000001" not in text and "a.example.com" not in text
    assert f"[{customer.name}]" in text and text.endswith("[0]")
