"""A tier's name, benefits and description are kept per language: every page and API
answer shows the reader's language, falling back to the other when it is empty, and the
console edits both side by side."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import translation

from crm.audit.models import AuditEvent
from tests.api_contract import detail_url
from tests.factories import CustomerFactory, restore_shipped_tiers, tier
from tiers.models import Tier

pytestmark = pytest.mark.django_db
TIERS = "/api/v1/tiers/"


def _in(client: Any, language: str) -> Any:
    """The client as a reader of ``language`` (the language switch's cookie)."""
    client.cookies["django_language"] = language
    return client


@pytest.fixture
def admin_client(client: Any, admin_user: Any) -> Any:
    client.force_login(admin_user)
    return client


def test_the_shipped_benefits_are_split_into_their_languages() -> None:
    gold = tier("gold")
    assert gold.benefits_zh == ["月度回访与需求调研", "会员折扣 5%", "免费快递与延长质保", "生日与节日关怀"]
    assert gold.benefits_en == [
        "Monthly follow-up and needs review", "5% member discount", "Free delivery and extended warranty",
        "Birthday and holiday greetings",
    ]  # fmt: skip
    for shipped in Tier.objects.all():
        assert len(shipped.benefits_zh) == len(shipped.benefits_en) > 0
        assert not any(" / " in benefit for benefit in shipped.benefits_zh + shipped.benefits_en)


def test_the_shipped_tiers_restored_for_tests_are_those_the_migrations_leave() -> None:
    shown = ("code", "name_zh", "name_en", "rank", "colour", "min_score", "benefits_zh", "benefits_en")
    migrated = list(Tier.objects.order_by("code").values(*shown))
    Tier.objects.update(name_zh="x", name_en="", benefits_zh=[], benefits_en=["y"])
    restore_shipped_tiers()
    assert list(Tier.objects.order_by("code").values(*shown)) == migrated


def test_a_tier_reads_in_the_active_language_and_falls_back_to_the_other() -> None:
    gold = tier("gold")
    with translation.override("en"):
        assert (str(gold), gold.benefits[0]) == ("Gold", "Monthly follow-up and needs review")
    with translation.override("zh-hans"):
        assert (str(gold), gold.benefits[0]) == ("黄金", "月度回访与需求调研")
    gold.name_en, gold.benefits_zh = "", []
    with translation.override("en"):
        assert str(gold) == "黄金"
    with translation.override("zh-hans"):
        assert gold.benefits[0] == "Monthly follow-up and needs review"


def test_the_customer_page_shows_the_tier_and_its_benefits_in_the_readers_language(client: Any, rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1, tier=tier("gold"))
    client.force_login(rep1)
    english = _in(client, "en").get(f"/customers/{customer.pk}/").content.decode()
    assert "Monthly follow-up and needs review" in english and "月度回访与需求调研" not in english
    assert ">Gold<" in english
    chinese = _in(client, "zh-hans").get(f"/customers/{customer.pk}/").content.decode()
    assert "月度回访与需求调研" in chinese and "Monthly follow-up and needs review" not in chinese
    assert ">黄金<" in chinese


def test_an_empty_language_shows_the_other_on_the_pages(client: Any, rep1: Any) -> None:
    Tier.objects.filter(code="gold").update(name_en="", benefits_en=[])
    customer = CustomerFactory(owner=rep1, tier=tier("gold"))
    client.force_login(rep1)
    english = _in(client, "en").get(f"/customers/{customer.pk}/").content.decode()
    assert "月度回访与需求调研" in english and ">黄金<" in english
    listed = _in(client, "en").get("/customers/").content.decode()
    assert ">黄金<" in listed
    dashboard = _in(client, "en").get("/tiers/").content.decode()
    assert "黄金" in dashboard and "Silver" in dashboard


def test_the_api_gives_both_languages_and_the_readers_one(api: Any, rep1: Any) -> None:
    gold = tier("gold")
    english = api(rep1).get(detail_url(TIERS, gold.pk), HTTP_ACCEPT_LANGUAGE="en").json()
    assert (english["name"], english["name_zh"], english["name_en"]) == ("Gold", "黄金", "Gold")
    assert english["benefits"] == english["benefits_en"] and english["benefits_zh"][0] == "月度回访与需求调研"
    chinese = api(rep1).get(detail_url(TIERS, gold.pk), HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert chinese["name"] == "黄金" and chinese["benefits"] == chinese["benefits_zh"]
    customer = CustomerFactory(owner=rep1, tier=gold)
    nested = api(rep1).get(f"/api/v1/customers/{customer.pk}/", HTTP_ACCEPT_LANGUAGE="en").json()["tier"]
    assert (nested["name"], nested["name_zh"], nested["name_en"]) == ("Gold", "黄金", "Gold")


def test_the_api_edits_each_language_and_falls_back(api: Any, admin_user: Any) -> None:
    gold = tier("gold")
    url = detail_url(TIERS, gold.pk)
    answer = api(admin_user).patch(
        url, {"benefits_zh": ["专属客服"], "benefits_en": [], "description_en": "Our best buyers."}, format="json",
        HTTP_IF_MATCH=f'"{gold.version}"', HTTP_ACCEPT_LANGUAGE="en",
    )  # fmt: skip
    assert answer.status_code == 200, answer.json()
    assert answer.json()["benefits"] == ["专属客服"]  # no English benefits: the Chinese show
    assert answer.json()["description"] == "Our best buyers."
    gold.refresh_from_db()
    # Writing the display value sets the request's language only.
    answer = api(admin_user).patch(
        url, {"benefits": ["A dedicated line"]}, format="json", HTTP_IF_MATCH=f'"{gold.version}"',
        HTTP_ACCEPT_LANGUAGE="en",
    )  # fmt: skip
    assert answer.status_code == 200, answer.json()
    gold.refresh_from_db()
    assert (gold.benefits_zh, gold.benefits_en) == (["专属客服"], ["A dedicated line"])
    refused = api(admin_user).patch(
        url, {"benefits_en": "one"}, format="json", HTTP_IF_MATCH=f'"{gold.version}"', HTTP_ACCEPT_LANGUAGE="en"
    )
    assert refused.status_code == 400 and "benefits_en" in refused.json()["fields"]
    nameless = api(admin_user).patch(
        url, {"name_zh": "", "name_en": ""}, format="json", HTTP_IF_MATCH=f'"{gold.version}"', HTTP_ACCEPT_LANGUAGE="en"
    )
    assert nameless.status_code == 400
    assert Tier.objects.get(pk=gold.pk).name_zh == "黄金"


def test_only_admins_open_the_tier_console(client: Any, rep1: Any, manager: Any, admin_user: Any) -> None:
    gold = tier("gold")
    for user in (rep1, manager):
        client.force_login(user)
        assert client.get("/console/tiers/").status_code == 403
        assert client.post(f"/console/tiers/{gold.pk}/", {"name_zh": "x"}).status_code == 403
    client.force_login(admin_user)
    assert client.get("/console/tiers/").status_code == 200


def test_the_console_edits_both_languages_side_by_side(admin_client: Any, admin_user: Any) -> None:
    gold = tier("gold")
    listed = _in(admin_client, "en").get("/console/tiers/").content.decode()
    assert "月度回访与需求调研" in listed and "Monthly follow-up and needs review" in listed
    page = admin_client.get(f"/console/tiers/{gold.pk}/").content.decode()
    for name in ("name_zh", "name_en", "benefits_zh", "benefits_en", "description_zh", "description_en"):
        assert f'name="{name}"' in page
    assert "Monthly follow-up and needs review\n5% member discount" in page
    data = {
        "version": gold.version, "name_zh": "金卡", "name_en": "Gold card", "colour": "#D4AF37",
        "benefits_zh": "专属客服\n\n  季度回访  \n", "benefits_en": "", "description_zh": "",
        "description_en": "Top buyers.",
    }  # fmt: skip
    answer = admin_client.post(f"/console/tiers/{gold.pk}/", data)
    assert answer.status_code == 302, answer.content.decode()[:2000]
    gold.refresh_from_db()
    assert (gold.name_zh, gold.name_en, gold.benefits_zh, gold.benefits_en) == (
        "金卡", "Gold card", ["专属客服", "季度回访"], []
    )  # fmt: skip
    assert gold.description_en == "Top buyers." and gold.code == "gold" and gold.rank == 3
    event = AuditEvent.objects.filter(resource="tiers.tier", object_id=str(gold.pk)).latest("id")
    assert event.actor == admin_user and "benefits_zh" in event.changes
    with translation.override("en"):
        assert gold.benefits == ["专属客服", "季度回访"]  # English left empty: the Chinese show
    stale = admin_client.post(f"/console/tiers/{gold.pk}/", {**data, "name_en": "Mine"})
    assert stale.status_code == 409
    nameless = admin_client.post(
        f"/console/tiers/{gold.pk}/", {**data, "version": gold.version, "name_zh": "", "name_en": ""}
    )
    assert nameless.status_code == 422 and "name_zh" in nameless.context["form"].errors
    too_long = admin_client.post(
        f"/console/tiers/{gold.pk}/", {**data, "version": gold.version, "benefits_en": "x" * 201}
    )
    assert too_long.status_code == 422 and "benefits_en" in too_long.context["form"].errors
    assert Tier.objects.get(pk=gold.pk).name_zh == "金卡"
