"""The product speaks Simplified Chinese and English: every model and field name has both."""

from __future__ import annotations

from typing import Any

import pytest
from django.apps import apps
from django.utils import translation

from tests.factories import CustomerFactory

OURS = ("accounts", "access", "audit", "customers", "transactions", "tiers", "feedback", "campaigns", "risk")
SAME_IN_BOTH = {"API", "SKU"}


def _labels(model: Any) -> list[str]:
    fields = [f for f in model._meta.get_fields() if hasattr(f, "verbose_name") and not f.auto_created]
    return [str(model._meta.verbose_name), *(str(f.verbose_name) for f in fields)]


def _untranslated() -> list[str]:
    missing = []
    for model in apps.get_models():
        if model._meta.app_label not in OURS or model._meta.model_name == "auditchainhead":
            continue
        with translation.override("en"):
            english = _labels(model)
        with translation.override("zh-hans"):
            chinese = _labels(model)
        for en, zh in zip(english, chinese, strict=True):
            if en == zh and en not in SAME_IN_BOTH and en.lower() not in {"id", "password", "username"}:
                missing.append(f"{model._meta.label}: {en}")
    return missing


def test_every_model_and_field_has_a_chinese_name() -> None:
    assert _untranslated() == []


@pytest.mark.django_db
def test_api_errors_follow_accept_language(api: Any, rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    client = api(rep1)
    zh = client.patch(f"/api/v1/customers/{customer.pk}/", {"city": "x"}, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans")
    en = client.patch(f"/api/v1/customers/{customer.pk}/", {"city": "x"}, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert zh.status_code == en.status_code == 428
    assert "If-Match" in zh.json()["message"] and "请" in zh.json()["message"]
    assert en.json()["message"].startswith("Send the If-Match header")
