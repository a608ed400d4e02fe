"""Serializer fields are worked out once per class, and every use still gets its own."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import translation
from rest_framework import serializers
from rest_framework.validators import UniqueValidator

from crm.access.models import FieldPermission
from customers.api.serializers import CustomerSerializer
from tests.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def test_the_model_is_read_once_per_class(monkeypatch: Any) -> None:
    CustomerSerializer().fields  # noqa: B018 - builds the pattern if no test did yet
    calls = []
    original = serializers.ModelSerializer.get_fields

    def counting(self: Any) -> Any:
        calls.append(type(self))
        return original(self)

    monkeypatch.setattr(serializers.ModelSerializer, "get_fields", counting)
    first, second = CustomerSerializer(), CustomerSerializer()
    assert set(first.fields) == set(second.fields)
    assert CustomerSerializer not in calls


def test_each_use_has_its_own_fields_bound_to_it() -> None:
    first, second = CustomerSerializer(), CustomerSerializer()
    for name in ("name", "owner", "tags", "contacts", "completeness"):
        assert first.fields[name] is not second.fields[name]
        assert first.fields[name].parent is first and second.fields[name].parent is second
    # A nested serializer's own fields belong to that copy, so they read its context.
    nested = first.fields["contacts"]
    assert nested.child.parent is nested
    assert nested.child is not second.fields["contacts"].child


def test_nested_rows_follow_each_request_s_policy(api: Any, rep1: Any, admin_user: Any) -> None:
    """The same serializer class used by two roles in turn masks by the role of each."""
    FieldPermission.objects.update_or_create(
        resource="contacts", field="mobile", role="rep", defaults={"level": "masked"}
    )
    FieldPermission.objects.update_or_create(
        resource="contacts", field="mobile", role="admin", defaults={"level": "write"}
    )
    customer = CustomerFactory(owner=rep1)
    ContactFactory(customer=customer, mobile="13812345678")
    for user, expected in ((rep1, False), (admin_user, True), (rep1, False), (admin_user, True)):
        mobile = api(user).get(f"/api/v1/customers/{customer.pk}/").json()["contacts"][0]["mobile"]
        assert (mobile == "13812345678") is expected, (user.username, mobile)


def test_texts_written_out_while_building_follow_the_language() -> None:
    """DRF formats a unique field's "already exists" message while it builds the field."""
    seen = []
    for language in ("zh-hans", "en", "zh-hans", "en"):
        with translation.override(language):
            (unique,) = [v for v in CustomerSerializer().fields["tax_id"].validators if isinstance(v, UniqueValidator)]
            seen.append(str(unique.message))
    assert seen[0] == seen[2] and seen[1] == seen[3]
    assert "already exists" in seen[1] and "已存在" in seen[0]
