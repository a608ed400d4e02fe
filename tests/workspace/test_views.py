"""The workspace pages of the customer archive through Django's test client: scope,
field policy, in-place sections, conflicts, bulk actions, saved views and query counts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm.access.models import ChangeRequest, FieldPermission
from crm.audit.models import AuditEvent
from customers.models import Contact, Customer, SavedView
from tests.factories import (
    ActivityFactory,
    ContactFactory,
    CustomerFactory,
    FeedbackFactory,
    RiskAlertFactory,
    ServiceRecordFactory,
    TransactionFactory,
)

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def as_user(client: Any) -> Any:
    def sign_in(user: Any) -> Any:
        client.force_login(user)
        return client

    return sign_in


def _level(resource: str, field: str, role: str, level: str) -> None:
    FieldPermission.objects.update_or_create(resource=resource, field=field, role=role, defaults={"level": level})


@pytest.mark.parametrize(
    "url", ["/", "/customers/", "/customers/new/", "/campaigns/", "/service/feedback/", "/service/records/"]
)
def test_pages_need_sign_in(client: Any, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_my_day_shows_the_reps_work(as_user: Any, rep1: Any, rep2: Any) -> None:
    mine = CustomerFactory(owner=rep1, lifecycle_stage="key")
    now = timezone.now()
    ActivityFactory(
        customer=mine, assignee=rep1, subject="昨天该回电", due_at=now - dt.timedelta(days=1), occurred_at=None
    )
    ActivityFactory(
        customer=mine,
        assignee=rep1,
        subject="今天拜访",
        due_at=timezone.localtime().replace(hour=23, minute=0),
        occurred_at=None,
    )
    ActivityFactory(
        customer=CustomerFactory(owner=rep2), assignee=rep2, subject="别人的事", due_at=now, occurred_at=None
    )
    RiskAlertFactory(customer=mine, title="付款逾期 45 天")
    html = as_user(rep1).get("/").content.decode()
    assert "昨天该回电" in html and "今天拜访" in html and "别人的事" not in html
    assert "付款逾期 45 天" in html and mine.name in html


def test_list_is_scoped_searchable_filterable_and_sortable(as_user: Any, rep1: Any, rep2: Any) -> None:
    a = CustomerFactory(owner=rep1, name="上海甲科技", industry="it", code="C-A")
    b = CustomerFactory(owner=rep1, name="杭州乙贸易", industry="retail", code="C-B")
    CustomerFactory(owner=rep2, name="别人的客户")
    ContactFactory(customer=b, name="王小明", mobile="13900001111")
    RiskAlertFactory(customer=a)
    client = as_user(rep1)
    page = client.get("/customers/").content.decode()
    assert a.name in page and b.name in page and "别人的客户" not in page
    assert client.get("/customers/", {"q": "王小明"}).context["table"]["rows"][0]["obj"] == b
    assert client.get("/customers/", {"q": "13900001111"}).context["table"]["rows"][0]["obj"] == b
    assert [r["obj"] for r in client.get("/customers/", {"industry": "it"}).context["table"]["rows"]] == [a]
    assert [r["obj"] for r in client.get("/customers/", {"open_alert": "1"}).context["table"]["rows"]] == [a]
    by_code = client.get("/customers/", {"sort": "-code"}).context["table"]["rows"]
    assert [r["obj"] for r in by_code] == [b, a]
    assert client.get("/customers/", {"industry": "nonsense"}).status_code == 400


def test_list_follows_the_field_policy(as_user: Any, rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1, name="深圳丙电子")
    ContactFactory(customer=customer, name="李雷", mobile="13912345678", is_primary=True)
    _level("contacts", "mobile", "rep", "masked")
    _level("customers", "industry", "rep", "hidden")
    client = as_user(rep1)
    response = client.get("/customers/")
    html = response.content.decode()
    assert "139****5678" in html and "13912345678" not in html
    assert "industry" not in dict(response.context["table"]["columns"])
    assert "industry" not in response.context["form"].fields  # no filter on what one cannot see
    # A masked phone cannot be searched either: that would reveal it digit by digit.
    assert client.get("/customers/", {"q": "13912345678"}).context["table"]["rows"] == []


def test_list_and_detail_cost_a_constant_number_of_queries(as_user: Any, rep1: Any) -> None:
    def fill(n: int) -> Customer:
        last = None
        for _ in range(n):
            last = CustomerFactory(owner=rep1)
            ContactFactory(customer=last)
            TransactionFactory(customer=last)
            ServiceRecordFactory(customer=last)
            FeedbackFactory(customer=last)
            ActivityFactory(customer=last, assignee=rep1)
        assert last is not None
        return last

    client = as_user(rep1)
    first = fill(2)
    client.get("/customers/")  # warm the policy cache
    client.get(f"/customers/{first.pk}/")  # and the tier schedule (kept per generation)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/customers/").status_code == 200
    with CaptureQueriesContext(connection) as few_detail:
        assert client.get(f"/customers/{first.pk}/").status_code == 200
    last = fill(20)
    for _ in range(8):
        ContactFactory(customer=last)
        TransactionFactory(customer=last)
    with CaptureQueriesContext(connection) as many:
        client.get("/customers/")
    with CaptureQueriesContext(connection) as many_detail:
        client.get(f"/customers/{last.pk}/")
    assert len(many) == len(few), [q["sql"][:120] for q in many.captured_queries]
    assert len(many_detail) == len(few_detail)
    # session, user, policy, customer, figures, tier panel (schedule, explanation, tiers), 11
    # sections, the timeline's streams: a fixed set, whatever the history's length.
    assert len(many_detail) <= 35


def test_another_reps_customer_is_not_found(as_user: Any, rep1: Any, rep2: Any) -> None:
    theirs = CustomerFactory(owner=rep2)
    client = as_user(rep1)
    assert client.get(f"/customers/{theirs.pk}/").status_code == 404
    assert client.get(f"/customers/{theirs.pk}/contacts/new/", **HTMX).status_code == 404
    assert client.post(f"/customers/{theirs.pk}/profile/", {"name": "x"}).status_code == 404


def test_a_section_opened_as_a_page_is_the_360_page_at_that_section(as_user: Any, rep1: Any, rep2: Any) -> None:
    """A bookmarked or shared section link shows the whole page, not a bare fragment."""
    customer = CustomerFactory(owner=rep1)
    client = as_user(rep1)
    opened = client.get(f"/customers/{customer.pk}/contacts/")
    assert opened.status_code == 302 and opened["Location"] == f"/customers/{customer.pk}/#contacts"
    fragment = client.get(f"/customers/{customer.pk}/contacts/", **HTMX)
    assert fragment.status_code == 200 and "<html" not in fragment.content.decode()
    assert client.get(f"/customers/{customer.pk}/nothing/").status_code == 404
    assert as_user(rep2).get(f"/customers/{customer.pk}/contacts/").status_code == 404


def test_detail_masks_and_hides_by_policy(as_user: Any, rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1, tax_id="91310000MA1K000001", website="https://secret.example.com")
    ContactFactory(customer=customer, mobile="13912345678")
    _level("customers", "tax_id", "rep", "masked")
    _level("customers", "website", "rep", "hidden")
    _level("contacts", "mobile", "rep", "masked")
    html = as_user(rep1).get(f"/customers/{customer.pk}/").content.decode()
    assert "9131**********0001" in html and "91310000MA1K000001" not in html
    assert "secret.example.com" not in html
    assert "139****5678" in html and "13912345678" not in html


def test_a_section_edit_sends_propose_level_changes_to_review(as_user: Any, rep1: Any) -> None:
    """On any 360 section, as on the profile: the writable fields are written and a changed
    propose-level field becomes a change request, never silently dropped."""
    customer = CustomerFactory(owner=rep1)
    contact = ContactFactory(customer=customer, title="采购经理", email="old@example.com")
    _level("contacts", "title", "rep", "propose")
    client = as_user(rep1)
    url = f"/customers/{customer.pk}/contacts/{contact.pk}/"
    form = client.get(url, **HTMX).content.decode()
    assert "goes to review" in form or "审核" in form
    saved = client.post(
        url, {"name": contact.name, "title": "采购总监", "email": "new@example.com", "version": contact.version}, **HTMX
    )
    assert saved.status_code == 200, saved.content.decode()[:400]
    contact.refresh_from_db()
    assert contact.email == "new@example.com" and contact.title == "采购经理"
    change = ChangeRequest.objects.get(resource="contacts", record_id=contact.pk)
    assert change.changes == {"title": "采购总监"} and change.requested_by == rep1


def test_add_a_contact_in_place(as_user: Any, rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    client = as_user(rep1)
    form = client.get(f"/customers/{customer.pk}/contacts/new/", **HTMX)
    assert form.status_code == 200 and b'data-testid="contacts-form"' in form.content
    refused = client.post(f"/customers/{customer.pk}/contacts/new/", {"name": "", "mobile": "12"}, **HTMX)
    assert refused.status_code == 422 and refused["HX-Retarget"] == "#contacts-form"
    assert not Contact.objects.filter(customer=customer).exists()
    saved = client.post(
        f"/customers/{customer.pk}/contacts/new/",
        {"name": "韩梅梅", "mobile": "13800001234", "is_primary": "on"},
        **HTMX,
    )
    assert saved.status_code == 200 and "韩梅梅" in saved.content.decode()
    contact = Contact.objects.get(customer=customer)
    assert (
        contact.is_primary
        and AuditEvent.objects.filter(resource="customers.contact", object_id=str(contact.pk)).exists()
    )


def test_add_an_order_in_place(as_user: Any, rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    client = as_user(rep1)
    saved = client.post(
        f"/customers/{customer.pk}/transactions/new/",
        {"order_date": "2026-11-20", "description": "年度框架订单", "amount": "58800", "status": "pending"},
        **HTMX,
    )
    assert saved.status_code == 200, saved.content.decode()[:500]
    order = customer.transactions.get()
    assert order.amount == 58800 and order.description == "年度框架订单"


def test_a_stale_edit_is_a_conflict_not_an_overwrite(as_user: Any, rep1: Any, api: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    contact = ContactFactory(customer=customer, name="旧名字")
    client = as_user(rep1)
    url = f"/customers/{customer.pk}/contacts/{contact.pk}/"
    assert client.get(url, **HTMX).context["form"]["version"].value() == 1
    # Someone else saves first.
    etag = api(rep1).get(f"/api/v1/contacts/{contact.pk}/")["ETag"]
    api(rep1).patch(f"/api/v1/contacts/{contact.pk}/", {"name": "别人改的"}, format="json", HTTP_IF_MATCH=etag)
    stale = client.post(url, {"name": "我改的", "version": "1"}, **HTMX)
    assert stale.status_code == 409 and b'data-testid="conflict"' in stale.content
    contact.refresh_from_db()
    assert contact.name == "别人改的"
    fresh = client.post(url, {"name": "我改的", "version": str(contact.version)}, **HTMX)
    assert fresh.status_code == 200
    contact.refresh_from_db()
    assert contact.name == "我改的"


def test_profile_edit_sends_propose_level_fields_to_review(as_user: Any, rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1, credit_limit=500000, name="原名")
    client = as_user(rep1)
    page = client.get(f"/customers/{customer.pk}/profile/", HTTP_ACCEPT_LANGUAGE="en")
    field = page.context["form"].fields["credit_limit"]  # the default policy: reps propose credit terms
    assert not field.disabled and "goes to review" in str(field.help_text)
    data = {
        "name": "新名",
        "kind": customer.kind,
        "industry": customer.industry,
        "lifecycle_stage": "active",
        "credit_limit": "1",
        "payment_terms_days": str(customer.payment_terms_days),
        "consent_data_processing": "on",
        "version": str(customer.version),
    }
    response = client.post(f"/customers/{customer.pk}/profile/", data)
    assert response.status_code == 302, response.context["form"].errors
    customer.refresh_from_db()
    assert customer.name == "新名" and customer.credit_limit == 500000
    change = ChangeRequest.objects.get()
    assert (change.changes, change.requested_by_id, change.status) == ({"credit_limit": "1.00"}, rep1.pk, "pending")


def test_create_a_customer(as_user: Any, rep1: Any) -> None:
    client = as_user(rep1)
    refused = client.post("/customers/new/", {"name": ""})
    assert refused.status_code == 422 and not Customer.objects.exists()
    response = client.post(
        "/customers/new/",
        {
            "name": "成都丁制药有限公司",
            "kind": "enterprise",
            "industry": "healthcare",
            "lifecycle_stage": "prospect",
            "consent_data_processing": "on",
        },
    )
    customer = Customer.objects.get()
    assert response["Location"] == f"/customers/{customer.pk}/"
    assert customer.owner == rep1 and customer.code.startswith("C")


def test_bulk_actions_are_for_managers(as_user: Any, rep1: Any, rep2: Any, manager: Any) -> None:
    a, b = CustomerFactory(owner=rep1), CustomerFactory(owner=rep1)
    client = as_user(rep1)
    client.post("/customers/bulk/", {"action": "tag", "ids": [a.pk], "tag": "重点"})
    a.refresh_from_db()
    assert a.tags == []
    client = as_user(manager)
    client.post("/customers/bulk/", {"action": "assign", "ids": [a.pk, b.pk], "owner": rep2.username})
    client.post("/customers/bulk/", {"action": "tag", "ids": [a.pk], "tag": "重点"})
    client.post("/customers/bulk/", {"action": "tag", "ids": [a.pk], "tag": "重点"})  # twice: no duplicate
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.owner == rep2 and b.owner == rep2 and a.tags == ["重点"]
    assert AuditEvent.objects.filter(action="bulk", resource="customers.customer").count() == 3


def test_saved_views_are_private(as_user: Any, rep1: Any, rep2: Any) -> None:
    client = as_user(rep1)
    response = client.post("/customers/views/", {"name": "IT 客户", "query": "industry=it&page=3"})
    view = SavedView.objects.get(user=rep1)
    assert view.query == "industry=it" and response["Location"] == "/customers/?industry=it"
    assert "IT 客户" in client.get("/customers/").content.decode()
    other = as_user(rep2)
    assert "IT 客户" not in other.get("/customers/").content.decode()
    assert other.post(f"/customers/views/{view.pk}/delete/").status_code == 404


@pytest.mark.parametrize("url", ["/campaigns/", "/service/feedback/", "/service/records/"])
def test_queues_are_scoped(as_user: Any, rep1: Any, rep2: Any, url: str) -> None:
    mine, theirs = CustomerFactory(owner=rep1, name="我的客户"), CustomerFactory(owner=rep2, name="别人的客户")
    for customer in (mine, theirs):
        FeedbackFactory(customer=customer)
        ServiceRecordFactory(customer=customer)
    html = as_user(rep1).get(url).content.decode()
    assert "别人的客户" not in html
    if url != "/campaigns/":
        assert "我的客户" in html


def test_other_pages_cost_a_constant_number_of_queries(as_user: Any, rep1: Any, manager: Any) -> None:
    from tests.factories import CampaignFactory, ParticipationFactory

    def fill(n: int) -> None:
        for _ in range(n):
            customer = CustomerFactory(owner=rep1, lifecycle_stage="key")
            FeedbackFactory(customer=customer)
            ServiceRecordFactory(customer=customer)
            RiskAlertFactory(customer=customer)
            ActivityFactory(customer=customer, assignee=rep1, due_at=timezone.now(), occurred_at=timezone.now())
            ParticipationFactory(customer=customer, campaign=CampaignFactory())

    urls = {rep1: ["/", "/service/feedback/", "/service/records/"], manager: ["/campaigns/"]}
    fill(2)
    few: dict[str, int] = {}
    for user, paths in urls.items():
        client = as_user(user)
        for path in paths:
            client.get(path)
            with CaptureQueriesContext(connection) as queries:
                assert client.get(path).status_code == 200
            few[path] = len(queries)
    fill(15)
    for user, paths in urls.items():
        client = as_user(user)
        for path in paths:
            with CaptureQueriesContext(connection) as queries:
                client.get(path)
            assert len(queries) == few[path], path


def test_campaign_detail_shows_funnel_conversion_and_revenue(as_user: Any, rep1: Any, manager: Any) -> None:
    from tests.factories import CampaignFactory, ParticipationFactory

    campaign = CampaignFactory(name="2026 秋季展会", budget=1000)
    for status in ("invited", "attended"):
        ParticipationFactory(campaign=campaign, customer=CustomerFactory(owner=rep1), status=status)
    for amount in (1500, 2500):
        customer = CustomerFactory(owner=rep1)
        order = TransactionFactory(customer=customer, amount=amount)
        # Invited before the order: inside the attribution window.
        invited = timezone.now() - dt.timedelta(days=20)
        ParticipationFactory(
            campaign=campaign, customer=customer, status="converted", transaction=order, invited_at=invited
        )
    response = as_user(manager).get(f"/campaigns/{campaign.pk}/")
    html = response.content.decode()
    assert response.context["stats"]["conversion_rate"] == 0.5
    assert 'data-testid="conversion">50%' in html and "¥4,000" in html
    assert len(response.context["participants"]["rows"]) == 4
    listing = as_user(manager).get("/campaigns/")
    row = next(c for c in listing.context["page"] if c.pk == campaign.pk)
    assert (row.participant_count, row.converted_count, row.revenue) == (4, 2, 4000)
