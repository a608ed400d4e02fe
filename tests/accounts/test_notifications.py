"""In-app notifications: the menu shows the unread count, the page lists them, one click
reads them all; nobody sees anyone else's."""

from __future__ import annotations

from typing import Any

import pytest

from crm.accounts.models import Notification

pytestmark = pytest.mark.django_db


def test_notifications_are_listed_counted_and_read(client: Any, rep1: Any, rep2: Any) -> None:
    Notification.objects.create(user=rep1, key="a", title="您的客户等级变动：升级 2 个，降级 0 个", link="/tiers/")
    Notification.objects.create(user=rep2, key="a", title="别人的通知")
    client.force_login(rep1)
    home = client.get("/")
    assert home.context["unread_notifications"] == 1
    page = client.get("/notifications/").content.decode()
    assert "升级 2 个" in page and "别人的通知" not in page
    assert client.post("/notifications/read/").status_code == 302
    assert client.get("/").context["unread_notifications"] == 0
    assert Notification.objects.get(user=rep2).read_at is None
