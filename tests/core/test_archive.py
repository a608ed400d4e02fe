"""The key-account archive workbook: a customer's whole archive, a sheet per section in
the order of the core-customer table, every sheet as the caller may see its list."""

from __future__ import annotations

import io
from typing import Any

import openpyxl
import pytest

from crm.access.models import FieldPermission
from crm.access.registry import archive_resources
from crm.accounts.services import api_token_create
from crm.audit.models import AuditEvent
from tests.factories import (
    ActivityFactory,
    ContactFactory,
    CustomerFactory,
    FeedbackFactory,
    ParticipationFactory,
    RiskAlertFactory,
    SatisfactionResponseFactory,
    ServiceNeedFactory,
    ServiceRecordFactory,
    TierChangeFactory,
    TransactionFactory,
)

pytestmark = pytest.mark.django_db
SHEETS_ZH = [
    "基本信息", "联系信息", "历史交易记录", "反馈与建议", "个性化服务需求", "市场活动参与情况",
    "风险管理与预警", "服务记录", "等级历史", "跟进", "满意度调查",
]  # fmt: skip


def _book(response: Any) -> Any:
    assert response.status_code == 200, getattr(response, "content", b"")[:300]
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))


def _full_customer(owner: Any) -> Any:
    customer = CustomerFactory(owner=owner, name="华东重工股份有限公司", tax_id="91310000MA1K000009")
    ContactFactory(customer=customer, name="王经理", mobile="13800138000")
    TransactionFactory(customer=customer)
    TransactionFactory(customer=customer)
    FeedbackFactory(customer=customer)
    ServiceNeedFactory(customer=customer)
    ParticipationFactory(customer=customer)
    RiskAlertFactory(customer=customer)
    ServiceRecordFactory(customer=customer)
    TierChangeFactory(customer=customer)
    ActivityFactory(customer=customer)
    SatisfactionResponseFactory(customer=customer)
    return customer


def test_the_sections_follow_the_core_customer_table() -> None:
    names = [resource.name for resource in archive_resources()]
    assert names[:7] == [
        "customers", "contacts", "transactions", "feedback", "service-needs", "participations", "risk-alerts",
    ]  # fmt: skip
    assert {"service-records", "tier-changes"} <= set(names)


def test_one_customers_archive_has_a_sheet_per_section_with_its_records(api: Any, rep1: Any) -> None:
    customer = _full_customer(rep1)
    CustomerFactory(owner=rep1)  # another customer's records stay out
    book = _book(api(rep1).get(f"/api/v1/customers/{customer.pk}/archive/"))
    assert book.sheetnames == SHEETS_ZH
    basic = {row[0]: row[1] for row in book["基本信息"].iter_rows(values_only=True)}
    assert basic["名称"] == "华东重工股份有限公司"
    assert len(list(book["历史交易记录"].iter_rows(min_row=2))) == 2
    contacts = [row for row in book["联系信息"].iter_rows(values_only=True)]
    assert "王经理" in contacts[1]
    for title in SHEETS_ZH[1:]:
        assert book[title].max_row >= 2, f"{title} has its record"
    event = AuditEvent.objects.filter(action="export").latest("seq")
    assert event.changes["summary"]["after"]["customers"] == [customer.pk]


def test_the_archive_keeps_to_scope_policy_and_token_scopes(
    api: Any, rep1: Any, rep2: Any, integration_user: Any
) -> None:
    customer = _full_customer(rep1)
    assert api(rep2).get(f"/api/v1/customers/{customer.pk}/archive/").status_code == 404
    FieldPermission.objects.update_or_create(
        resource="customers", field="tax_id", role="rep", defaults={"level": "masked"}
    )
    FieldPermission.objects.update_or_create(
        resource="contacts", field="mobile", role="rep", defaults={"level": "hidden"}
    )
    book = _book(api(rep1).get(f"/api/v1/customers/{customer.pk}/archive/"))
    basic = {row[0]: row[1] for row in book["基本信息"].iter_rows(values_only=True)}
    assert basic["税号"] != "91310000MA1K000009" and basic["税号"].endswith("0009")
    assert "手机" not in [cell.value for cell in book["联系信息"][1]]
    _token, key = api_token_create(actor=None, user=integration_user, name="crm", scopes=["customers:read"])
    client = api()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    limited = _book(client.get(f"/api/v1/customers/{customer.pk}/archive/"))
    assert limited.sheetnames == ["基本信息"], "a token reads only the sections its scopes cover"


def test_a_filtered_set_archives_every_customer_of_the_list(api: Any, rep1: Any, rep2: Any) -> None:
    first = _full_customer(rep1)
    second = CustomerFactory(owner=rep1, industry=first.industry)
    TransactionFactory(customer=second)
    CustomerFactory(owner=rep2, industry=first.industry)
    book = _book(api(rep1).get("/api/v1/customers/archive/", {"industry": first.industry}, HTTP_ACCEPT_LANGUAGE="en"))
    assert book.sheetnames[:3] == ["Basic information", "Contact information", "Transaction history"]
    assert book["Basic information"].max_row == 3, "a header and the two customers, as a table"
    assert book["Transaction history"].max_row == 4


def test_too_large_a_set_is_refused_in_words(api: Any, admin_user: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr("customers.api.views.MOST_CUSTOMERS", 1)
    CustomerFactory.create_batch(2)
    refused = api(admin_user).get("/api/v1/customers/archive/", HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 400 and "at most 1 customers" in str(refused.json())


def test_the_360_page_offers_the_archive(client: Any, rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    client.force_login(rep1)
    page = client.get(f"/customers/{customer.pk}/").content.decode()
    assert f"/api/v1/customers/{customer.pk}/archive/" in page
    assert _book(client.get(f"/api/v1/customers/{customer.pk}/archive/")).sheetnames[0] == "基本信息"
