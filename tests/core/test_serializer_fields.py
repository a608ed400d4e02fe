"""Serializer fields are worked out once per class, and every use still gets its own."""

from __future__ import annotations

import importlib
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import translation
from rest_framework import serializers
from rest_framework.test import APIRequestFactory
from rest_framework.validators import UniqueValidator

from crm.access.models import FieldPermission
from crm.core.serializers import BuiltOnceFieldsMixin
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


def _serializers_with_a_model() -> list[type]:
    for module in (
        "campaigns", "crm.access", "crm.accounts", "crm.audit", "customers", "duplicates",
        "feedback", "imports", "risk", "tiers", "transactions",
    ):  # fmt: skip
        importlib.import_module(f"{module}.api.serializers")
    found, waiting = [], list(BuiltOnceFieldsMixin.__subclasses__())
    while waiting:
        cls = waiting.pop()
        waiting.extend(cls.__subclasses__())
        if issubclass(cls, serializers.ModelSerializer) and getattr(getattr(cls, "Meta", None), "model", None):
            found.append(cls)
    return sorted(set(found), key=lambda cls: cls.__qualname__)


def test_every_serializer_renders_what_drf_renders() -> None:
    """The kept plan (columns read straight off the record, texts and numbers written
    out by ``str``/``int``) gives, for every API serializer and the demo's records,
    exactly DRF's own representation."""
    call_command("seed_demo", "--customers", "12", "--seed", "5", stdout=StringIO())
    checked = 0
    for cls in _serializers_with_a_model():
        for record in cls.Meta.model._default_manager.order_by("pk")[:4]:
            serializer = cls(record, context={})
            expected = serializers.Serializer.to_representation(cls(record, context={}), record)
            assert dict(serializer.data) == dict(expected), cls.__qualname__
            checked += 1
    assert checked > 40


def test_a_hidden_field_is_never_read_and_a_masked_one_is_masked(rep1: Any, admin_user: Any) -> None:
    FieldPermission.objects.update_or_create(
        resource="customers", field="completeness", role="rep", defaults={"level": "hidden"}
    )
    FieldPermission.objects.update_or_create(
        resource="customers", field="phone", role="rep", defaults={"level": "masked"}
    )
    customer = CustomerFactory(owner=rep1, phone="021-64881234")
    request = APIRequestFactory().get("/")
    request.user = rep1
    computed = []
    original = CustomerSerializer.get_completeness

    def counting(self: Any, record: Any) -> Any:
        computed.append(record.pk)
        return original(self, record)

    try:
        CustomerSerializer.get_completeness = counting  # type: ignore[method-assign]
        data = CustomerSerializer(customer, context={"request": request}).data
        assert "completeness" not in data and computed == []
        assert data["phone"] != "021-64881234" and data["phone"].endswith("34")
        request = APIRequestFactory().get("/")
        request.user = admin_user
        data = CustomerSerializer(customer, context={"request": request}).data
        assert data["phone"] == "021-64881234" and computed == [customer.pk]
    finally:
        CustomerSerializer.get_completeness = original  # type: ignore[method-assign]
