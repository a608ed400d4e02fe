"""The admin site writes through the audited services and shows only what the user may see."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from crm.audit.models import AuditEvent
from tests.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def _admin_client(user: Any) -> Client:
    user.is_staff = True
    user.is_superuser = True
    user.save()
    client = Client()
    client.force_login(user)
    return client


def test_admin_change_is_audited_with_admin_source(admin_user: Any, rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1, name="旧名称")
    client = _admin_client(admin_user)
    page = client.get(f"/admin/customers/customer/{customer.pk}/change/")
    assert page.status_code == 200
    form = {
        "code": customer.code,
        "name": "新名称",
        "kind": customer.kind,
        "industry": customer.industry,
        "region": customer.region,
        "province": customer.province,
        "city": customer.city,
        "payment_terms_days": 30,
        "lifecycle_stage": "key",
        "influence_score": 3,
        "owner": rep1.pk,
        "team": rep1.team_id or "",
        "consent_data_processing": "on",
        "contacts-TOTAL_FORMS": 0,
        "contacts-INITIAL_FORMS": 0,
        "contacts-MIN_NUM_FORMS": 0,
        "contacts-MAX_NUM_FORMS": 1000,
    }
    response = client.post(f"/admin/customers/customer/{customer.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    customer.refresh_from_db()
    assert customer.name == "新名称"
    assert customer.version == 2
    event = AuditEvent.objects.get(action="update", object_id=str(customer.pk), resource="customers.customer")
    assert event.source == "admin"
    assert event.changes["name"] == {"before": "旧名称", "after": "新名称"}
    assert event.changes["lifecycle_stage"] == {"before": "active", "after": "key"}


def test_admin_delete_is_audited(admin_user: Any, rep1: Any) -> None:
    contact = ContactFactory(customer=CustomerFactory(owner=rep1))
    client = _admin_client(admin_user)
    response = client.post(f"/admin/customers/contact/{contact.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="delete", object_id=str(contact.pk), source="admin").exists()


def test_staff_manager_sees_only_their_scope_in_admin(manager: Any, rep1: Any, outsider: Any) -> None:
    mine = CustomerFactory(owner=rep1)
    theirs = CustomerFactory(owner=outsider)
    manager.is_staff = True
    manager.save()
    from django.contrib.auth.models import Permission

    manager.user_permissions.add(Permission.objects.get(codename="view_customer"))
    client = Client()
    client.force_login(manager)
    page = client.get("/admin/customers/customer/")
    assert page.status_code == 200
    html = page.content.decode()
    assert mine.code in html
    assert theirs.code not in html
    assert client.get(f"/admin/customers/customer/{theirs.pk}/change/").status_code in (302, 404)
