"""On the 360 page a contact's WeChat id copies to the clipboard with one tap (a WeChat id
is not a link: it is pasted into WeChat's search); a masked id has no copy button."""

from __future__ import annotations

from typing import Any

import pytest

from crm.access.models import FieldPermission
from tests.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def test_a_wechat_id_copies_with_one_tap(client: Any, rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    ContactFactory(customer=customer, wechat="wang_xm_88")
    client.force_login(rep1)
    page = client.get(f"/customers/{customer.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'data-copy="wang_xm_88"' in page and 'data-copied="已复制"' in page
    FieldPermission.objects.create(resource="contacts", field="wechat", role="rep", level="masked")
    page = client.get(f"/customers/{customer.pk}/").content.decode()
    assert "data-copy=" not in page and "wang_xm_88" not in page
