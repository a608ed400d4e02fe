"""A queue row's addresses and words are made once per page, and are those the row would
have made for itself: every address is the view's own, in each language."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse

from crm.core.pages import Addresses
from tests.factories import CustomerFactory, FeedbackFactory, ServiceRecordFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("pk", [1, 42, 987654321, 2**62])
def test_an_address_is_the_view_s_own(pk: int) -> None:
    for name in ("customers:detail", "feedback:feedback-assign", "feedback:service-follow-up"):
        assert Addresses(name)(pk) == reverse(name, args=[pk])


@pytest.mark.parametrize(
    ("url", "make", "acts"),
    [
        ("/service/feedback/", FeedbackFactory, ("feedback-assign", "feedback-respond", "feedback-status")),
        ("/service/records/", ServiceRecordFactory, ("service-assign", "service-follow-up")),
    ],
)
@pytest.mark.parametrize(("language", "word"), [("en", "Take it"), ("zh-hans", "认领")])
def test_each_row_links_its_own_record_in_the_reader_s_language(
    client: Any, manager: Any, rep1: Any, url: str, make: Any, acts: tuple[str, ...], language: str, word: str
) -> None:
    extra = {"result": "pending"} if make is ServiceRecordFactory else {}
    records = [make(customer=CustomerFactory(owner=rep1, team=rep1.team), **extra) for _ in range(3)]
    client.force_login(manager)
    page = client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()
    for record in records:
        assert f'value="{record.pk}" form="bulk"' in page
        assert f'href="{reverse("customers:detail", args=[record.customer_id])}' in page
        for act in acts:
            assert f'hx-post="{reverse(f"feedback:{act}", args=[record.pk])}"' in page
    assert page.count(f">{word}</button>") == 3
    assert not re.search(r'data-label=""', page)
