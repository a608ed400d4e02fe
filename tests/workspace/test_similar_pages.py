"""The duplicate check of the create pages: the new customer page and a contact added
on the 360 page come back listing similar records, with "Create anyway"."""

from __future__ import annotations

from typing import Any

import pytest

from customers.models import Contact, Customer
from tests.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db


# ------------------------------------------------------------------ the page
def _form(**extra: Any) -> dict[str, Any]:
    return {
        "name": "宁波恒泰贸易有限公司",
        "kind": "enterprise",
        "industry": "manufacturing",
        "lifecycle_stage": "prospect",
        "city": "宁波",
        "province": "浙江省",
        "payment_terms_days": "30",
        "influence_score": "0",
        "consent_data_processing": "on",
        **extra,
    }


def test_the_create_page_lists_similar_customers_and_creates_anyway(client: Any, rep1: Any) -> None:
    mine = CustomerFactory(owner=rep1, name="宁波恒泰贸易股份有限公司", city="宁波")
    client.force_login(rep1)
    page = client.post("/customers/new/", _form(phone="0574 8765 4321"), HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 409 and Customer.objects.count() == 1
    html = page.content.decode()
    assert 'data-testid="similar"' in html and f'href="/customers/{mine.pk}/"' in html
    assert "Create anyway" in html and "0574 8765 4321" in html  # the values entered are kept
    created = client.post("/customers/new/", _form(phone="0574 8765 4321", create_anyway="1"))
    assert created.status_code == 302
    assert Customer.objects.filter(phone="0574 8765 4321").exists()


def test_the_panel_in_chinese(client: Any, rep1: Any) -> None:
    CustomerFactory(owner=rep1, name="宁波恒泰贸易股份有限公司", city="宁波")
    client.force_login(rep1)
    html = client.post("/customers/new/", _form(), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "已有相似的客户" in html and "仍然创建" in html


def test_a_rep_does_not_learn_another_reps_customer_from_the_page(client: Any, rep1: Any, rep2: Any) -> None:
    theirs = CustomerFactory(
        owner=rep2, name="宁波恒泰贸易有限公司", city="宁波", phone="0574-87654321", email="boss@hengtai.cn"
    )
    client.force_login(rep1)
    page = client.post(
        "/customers/new/",
        _form(name="恒泰贸易（宁波）股份有限公司", phone="0574-87654321"),
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert page.status_code == 409
    html = page.content.decode()
    assert f"ask {rep2}" in html
    for secret in [theirs.code, theirs.name, "boss@hengtai.cn", "hengtai", f"/customers/{theirs.pk}/"]:
        assert secret not in html
    assert Customer.objects.count() == 1


def test_the_contact_form_lists_similar_contacts(client: Any, rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    ContactFactory(customer=customer, name="王芳", mobile="13812345678")
    client.force_login(rep1)
    url = f"/customers/{customer.pk}/contacts/new/"
    page = client.post(url, {"name": "王芳"}, HTTP_HX_REQUEST="true", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 409 and page["HX-Retarget"] == "#contacts-form"
    html = page.content.decode()
    assert 'data-testid="similar"' in html and "same name" in html and "Add anyway" in html
    assert Contact.objects.filter(customer=customer).count() == 1
    saved = client.post(url, {"name": "王芳", "create_anyway": "1"}, HTTP_HX_REQUEST="true")
    assert saved.status_code == 200
    assert Contact.objects.filter(customer=customer).count() == 2
