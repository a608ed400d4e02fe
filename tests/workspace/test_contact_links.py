"""On the 360 page a phone number calls, an e-mail writes and an address opens a map
search with one tap; a masked number is not a link (it cannot be called)."""

from __future__ import annotations

from typing import Any

import pytest

from crm.access.models import FieldPermission
from tests.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def test_phones_e_mails_and_addresses_are_links(client: Any, rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1, phone="0571-8800 1234", address="杭州市西湖区文三路 90 号")
    ContactFactory(customer=customer, name="王经理", mobile="+86 138 0998 5018", email="wang@example.cn")
    client.force_login(rep1)
    page = client.get(f"/customers/{customer.pk}/").content.decode()
    assert 'href="tel:+8613809985018"' in page and 'href="mailto:wang@example.cn"' in page
    assert 'href="tel:057188001234"' in page
    assert 'href="https://uri.amap.com/search?keyword=' in page and 'rel="noopener"' in page


def test_a_masked_number_is_not_a_link(client: Any, rep1: Any) -> None:
    FieldPermission.objects.update_or_create(
        resource="contacts", field="mobile", role="rep", defaults={"level": "masked"}
    )
    customer = CustomerFactory(owner=rep1, phone="")
    ContactFactory(customer=customer, mobile="13912345678")
    client.force_login(rep1)
    page = client.get(f"/customers/{customer.pk}/").content.decode()
    assert "139****5678" in page and "tel:139" not in page
