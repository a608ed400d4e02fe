"""Every database constraint speaks to the user in words, in both languages: never its
name ("约束 “transaction_due_after_order” 是无效的")."""

from __future__ import annotations

from typing import Any

import pytest
from django.apps import apps
from django.db.models import BaseConstraint
from django.utils import translation

from tests.factories import CustomerFactory, TransactionFactory

OURS = {"accounts", "access", "audit", "core", "customers", "transactions", "feedback", "campaigns", "tiers", "risk",
        "imports", "workspace", "console", "demo"}  # fmt: skip


def _constraints() -> list[tuple[str, BaseConstraint]]:
    return [
        (model._meta.label, constraint)
        for model in apps.get_models()
        if model._meta.app_label in OURS
        for constraint in model._meta.constraints
    ]


def test_every_constraint_has_a_message_of_its_own_in_both_languages() -> None:
    found = _constraints()
    assert len(found) >= 30
    default = str(BaseConstraint.default_violation_error_message)
    for label, constraint in found:
        message = constraint.violation_error_message
        assert message is not None and str(message) != default, f"{label}: {constraint.name} has no message"
        with translation.override("en"):
            english = str(message)
        with translation.override("zh-hans"):
            chinese = str(message)
        assert constraint.name not in english and "%(name)s" not in english, (label, english)
        assert chinese != english and any("\u4e00" <= char <= "\u9fff" for char in chinese), (label, english)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "words"),
    [("zh-hans", "到期日不能早于下单日期"), ("en", "The due date cannot be before the order date")],
)
def test_an_order_due_before_it_was_placed_is_refused_in_words(api: Any, rep1: Any, language: str, words: str) -> None:
    payload = {"customer": CustomerFactory(owner=rep1).pk, "amount": "5000.00", "order_date": "2026-11-01",
               "due_date": "2026-10-01"}  # fmt: skip
    response = api(rep1).post("/api/v1/transactions/", payload, format="json", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 400, response.content
    text = response.content.decode()
    assert words in text and "transaction_due_after_order" not in text


@pytest.mark.django_db
def test_an_order_edited_to_fall_due_before_it_was_placed_is_refused_in_words(api: Any, rep1: Any) -> None:
    order = TransactionFactory(customer=CustomerFactory(owner=rep1))
    response = api(rep1).patch(
        f"/api/v1/transactions/{order.pk}/",
        {"due_date": "2000-01-01"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
        HTTP_IF_MATCH=f'"{order.version}"',
    )
    assert response.status_code == 400, response.content
    assert "到期日不能早于下单日期" in response.content.decode()


@pytest.mark.django_db
def test_the_order_form_says_why_in_words(client: Any, rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    client.force_login(rep1)
    answer = client.post(
        f"/customers/{customer.pk}/transactions/new/",
        {"order_date": "2026-11-20", "due_date": "2026-11-01", "amount": "58800", "status": "pending"},
        HTTP_HX_REQUEST="true",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    text = answer.content.decode()
    assert answer.status_code == 422 and "到期日不能早于下单日期" in text, text[:800]
    assert "transaction_due_after_order" not in text and not customer.transactions.exists()
