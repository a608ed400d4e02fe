"""The feedback and service queue pages: the rows with their response time and counts,
the filters, and working a row in place (htmx) or many at once, for the owner, a
teammate or manager and an outsider."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm.access.models import FieldPermission
from feedback.models import Feedback, ServiceRecord
from tests.factories import CustomerFactory, FeedbackFactory, ServiceRecordFactory

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}
QUEUE = "/service/feedback/"
RECORDS = "/service/records/"


def _feedback(owner: Any, **kwargs: Any) -> Feedback:
    return FeedbackFactory(customer=CustomerFactory(owner=owner, team=owner.team), **kwargs)


def _record(owner: Any, **kwargs: Any) -> ServiceRecord:
    return ServiceRecordFactory(customer=CustomerFactory(owner=owner, team=owner.team), **kwargs)


def _pks(response: Any) -> list[int]:
    return [item["obj"].pk for item in response.context["items"]]


# ---------------------------------------------------------------------- pages
def test_the_feedback_queue_shows_each_rows_response_time_and_the_counts(client: Any, rep1: Any) -> None:
    now = timezone.now()
    waiting = _feedback(rep1, subject="到货延迟三天", received_at=now - dt.timedelta(hours=30), handler=rep1,
                        content="三箱外包装压坏")  # fmt: skip
    answered = _feedback(rep1, subject="发票抬头", received_at=now - dt.timedelta(hours=3), status="in_progress",
                         response="已重开", responded_at=now - dt.timedelta(hours=1),
                         first_response_at=now - dt.timedelta(hours=1))  # fmt: skip
    _feedback(rep1, status="closed", response="已处理")
    client.force_login(rep1)
    page = client.get(QUEUE)
    html = page.content.decode()
    assert page.status_code == 200 and _pks(page) == [waiting.pk, answered.pk]  # open, the longest waiting first
    assert "等待 1 天 6 小时" in html or "等待 30 小时 0 分" in html
    assert "2 小时 0 分内回复" in html
    assert "三箱外包装压坏" in html, "the customer's words are at hand when answering"
    assert html.count('data-testid="overdue"') == 1 and 'class="table-warning"' in html
    assert "table table-cards" in html and 'data-label="响应时间"' in html
    assert page.context["counts"] == {
        "all": 3, "open": 2, "overdue": 1, "new": 1, "in_progress": 1, "resolved": 0, "closed": 1
    }  # fmt: skip


def test_the_feedback_filters(client: Any, rep1: Any, manager: Any) -> None:
    now = timezone.now()
    complaint = _feedback(rep1, kind="complaint", subject="包装破损", handler=rep1,
                          received_at=now - dt.timedelta(days=2))  # fmt: skip
    question = _feedback(rep1, kind="question", subject="咨询新品价格", handler=None)
    closed = _feedback(rep1, status="closed", response="已答复", handler=manager)
    client.force_login(manager)
    assert _pks(client.get(QUEUE)) == [complaint.pk, question.pk]  # the longest waiting first
    assert _pks(client.get(QUEUE + "?sort=newest")) == [question.pk, complaint.pk]
    assert _pks(client.get(QUEUE + "?sort=sideways")) == [complaint.pk, question.pk]
    assert _pks(client.get(QUEUE + "?status=closed")) == [closed.pk]
    assert len(_pks(client.get(QUEUE + "?status="))) == 3
    assert _pks(client.get(QUEUE + "?kind=question")) == [question.pk]
    assert _pks(client.get(QUEUE + "?handler=none")) == [question.pk]
    assert _pks(client.get(QUEUE + f"?handler={rep1.pk}")) == [complaint.pk]
    assert _pks(client.get(QUEUE + "?status=&handler=mine")) == [closed.pk]
    assert _pks(client.get(QUEUE + "?overdue=1")) == [complaint.pk]
    assert _pks(client.get(QUEUE + "?q=新品")) == [question.pk]
    assert client.get(QUEUE + "?handler=abc&kind=rant&page=x").status_code == 200


def test_the_queue_is_scoped(client: Any, rep1: Any, rep2: Any, manager: Any, outsider: Any) -> None:
    item = _feedback(rep1, subject="只给负责人看")
    for user, sees in ((rep1, True), (manager, True), (rep2, False), (outsider, False)):
        client.force_login(user)
        assert (item.pk in _pks(client.get(QUEUE))) is sees


def test_a_hidden_field_is_neither_shown_nor_filtered_on(client: Any, rep1: Any) -> None:
    item = _feedback(rep1, kind="complaint", subject="保密主题")
    FieldPermission.objects.create(resource="feedback", field="subject", role="rep", level="hidden")
    FieldPermission.objects.create(resource="feedback", field="kind", role="rep", level="hidden")
    client.force_login(rep1)
    page = client.get(QUEUE + "?kind=praise")
    assert "保密主题" not in page.content.decode() and 'id="kind"' not in page.content.decode()
    assert _pks(page) == [item.pk], "a filter on a hidden field is ignored"
    assert _pks(client.get(QUEUE + "?q=保密")) == [], "a search does not look into a hidden field"


# ------------------------------------------------------------- working a row
def test_the_owner_takes_answers_and_resolves_feedback_in_place(client: Any, rep1: Any) -> None:
    item = _feedback(rep1, handler=None)
    client.force_login(rep1)
    taken = client.post(f"{QUEUE}{item.pk}/assign/", {"handler": rep1.pk, "version": 1}, **HTMX)
    assert taken.status_code == 200 and taken.content.decode().lstrip().startswith("<tr")
    assert f'id="feedback-{item.pk}"' in taken.content.decode()
    answered = client.post(
        f"{QUEUE}{item.pk}/respond/", {"response": "已安排补发", "resolve": "on", "version": 2}, **HTMX
    )
    assert answered.status_code == 200 and "已安排补发" in answered.content.decode()
    item.refresh_from_db()
    assert item.handler == rep1 and item.status == "resolved" and item.first_response_at is not None
    assert "分钟内回复" in answered.content.decode()
    closed = client.post(f"{QUEUE}{item.pk}/status/", {"status": "closed", "version": 3, "next": "status=open"}, **HTMX)
    assert closed.status_code == 200
    # The status counts of the queue the row sits in are swapped in beside it.
    html = closed.content.decode()
    counts = html[html.index(' id="status-counts"') :]
    assert 'hx-swap-oob="true"' in counts
    assert 'data-testid="count-closed">已关闭 <span class="badge text-bg-light">1<' in counts
    item.refresh_from_db()
    assert item.status == "closed" and item.version == 4


def test_without_htmx_an_act_returns_to_the_queue_with_its_filters(client: Any, rep1: Any) -> None:
    item = _feedback(rep1)
    client.force_login(rep1)
    response = client.post(f"{QUEUE}{item.pk}/respond/", {"response": "收到", "version": 1, "next": "kind=suggestion"})
    assert response.status_code == 302 and response["Location"] == f"{QUEUE}?kind=suggestion"
    refused = client.post(f"{QUEUE}{item.pk}/status/", {"status": "new", "version": 2})
    assert refused.status_code == 422 and "feedback/queue_item.html" in [t.name for t in refused.templates]


def test_refusals_come_back_in_the_row_in_the_users_language(client: Any, rep1: Any, manager: Any) -> None:
    item = _feedback(rep1)
    client.force_login(rep1)
    unanswered = client.post(f"{QUEUE}{item.pk}/status/", {"status": "resolved", "version": 1}, **HTMX)
    assert unanswered.status_code == 422 and "请填写给客户的回复" in unanswered.content.decode()
    invalid = client.post(f"{QUEUE}{item.pk}/status/", {"status": "new", "version": 1}, **HTMX)
    assert invalid.status_code == 422 and 'data-testid="row-error"' in invalid.content.decode()
    handed = client.post(f"{QUEUE}{item.pk}/assign/", {"handler": manager.pk, "version": 1}, **HTMX)
    assert handed.status_code == 422 and "请经理分派" in handed.content.decode()
    client.cookies["django_language"] = "en"
    english = client.post(f"{QUEUE}{item.pk}/status/", {"status": "resolved", "version": 1}, **HTMX)
    assert english.status_code == 422 and "Write the response given to the customer" in english.content.decode()
    item.refresh_from_db()
    assert item.version == 1 and item.status == "new"


def test_a_stale_row_is_a_conflict_and_shows_the_current_version(client: Any, rep1: Any) -> None:
    item = _feedback(rep1)
    client.force_login(rep1)
    client.post(f"{QUEUE}{item.pk}/respond/", {"response": "第一次答复", "version": 1}, **HTMX)
    stale = client.post(f"{QUEUE}{item.pk}/respond/", {"response": "覆盖", "version": 1}, **HTMX)
    assert stale.status_code == 409 and 'name="version" value="2"' in stale.content.decode()
    item.refresh_from_db()
    assert item.response == "第一次答复"


def test_a_manager_hands_feedback_over_and_outsiders_get_404(
    client: Any, rep1: Any, rep2: Any, manager: Any, outsider: Any
) -> None:
    item = _feedback(rep1, handler=rep1)
    client.force_login(manager)
    page = client.get(QUEUE).content.decode()
    assert f'<option value="{rep1.pk}" selected>' in page  # the candidates: owner, team manager
    handed = client.post(f"{QUEUE}{item.pk}/assign/", {"handler": manager.pk, "version": 1}, **HTMX)
    assert handed.status_code == 200
    item.refresh_from_db()
    assert item.handler == manager
    for user in (rep2, outsider):
        client.force_login(user)
        for act, data in (("assign", {"handler": user.pk}), ("status", {"status": "closed"}),
                          ("respond", {"response": "x"})):  # fmt: skip
            assert client.post(f"{QUEUE}{item.pk}/{act}/", {**data, "version": 2}, **HTMX).status_code == 404


def test_a_field_the_role_may_not_write_is_not_offered_and_refused(client: Any, rep1: Any) -> None:
    item = _feedback(rep1, handler=None)
    FieldPermission.objects.create(resource="feedback", field="handler", role="rep", level="read")
    client.force_login(rep1)
    assert "认领" not in client.get(QUEUE).content.decode()
    refused = client.post(f"{QUEUE}{item.pk}/assign/", {"handler": rep1.pk, "version": 1}, **HTMX)
    assert refused.status_code == 403


# ----------------------------------------------------------------------- bulk
def test_bulk_assign_and_status_from_the_queue(client: Any, rep1: Any, manager: Any, outsider: Any) -> None:
    rows = [_feedback(rep1) for _ in range(3)]
    foreign = _feedback(outsider)
    client.force_login(manager)
    ids = [r.pk for r in rows] + [foreign.pk]
    done = client.post(f"{QUEUE}bulk/", {"ids": ids, "act": "assign", "person": rep1.pk, "next": "status=open"})
    assert done.status_code == 302 and done["Location"] == f"{QUEUE}?status=open"
    assert Feedback.objects.filter(handler=rep1).count() == 3
    foreign.refresh_from_db()
    assert foreign.handler is None
    moved = client.post(f"{QUEUE}bulk/", {"ids": ids, "act": "status", "status": "in_progress"}, follow=True)
    assert "3 行已更改" in moved.content.decode()
    assert Feedback.objects.filter(status="in_progress").count() == 3
    empty = client.post(f"{QUEUE}bulk/", {"act": "status", "status": "closed"})
    assert empty.status_code == 422 and 'data-testid="bulk-error"' in empty.content.decode()


def test_a_rep_bulk_takes_but_cannot_hand_over(client: Any, rep1: Any, manager: Any) -> None:
    rows = [_feedback(rep1) for _ in range(2)]
    client.force_login(rep1)
    refused = client.post(f"{QUEUE}bulk/", {"ids": [r.pk for r in rows], "act": "assign", "person": manager.pk})
    assert refused.status_code == 422
    taken = client.post(f"{QUEUE}bulk/", {"ids": [r.pk for r in rows], "act": "assign", "person": "me"})
    assert taken.status_code == 302 and Feedback.objects.filter(handler=rep1).count() == 2


# ------------------------------------------------------------------- service
def test_the_service_queue_shows_how_long_each_is_open_and_filters(client: Any, rep1: Any, manager: Any) -> None:
    today = timezone.localdate()
    late = _record(rep1, result="partial", service_date=today - dt.timedelta(days=6), staff=rep1, content="更换电机")
    recent = _record(rep1, result="follow_up", service_date=today - dt.timedelta(days=1), service_type="training")
    done = _record(rep1, result="resolved", service_date=today - dt.timedelta(days=10))
    client.force_login(manager)
    page = client.get(RECORDS)
    html = page.content.decode()
    assert set(_pks(page)) == {late.pk, recent.pk, done.pk}
    assert "已开 6 天" in html and "上门时已解决" in html and html.count('data-testid="overdue"') == 1
    assert page.context["counts"]["open"] == 2 and page.context["counts"]["overdue"] == 1
    assert _pks(client.get(RECORDS + "?status=open")) == [late.pk, recent.pk]  # the oldest first
    assert _pks(client.get(RECORDS + "?status=open&sort=newest")) == [recent.pk, late.pk]
    assert _pks(client.get(RECORDS + "?sort=oldest")) == [done.pk, late.pk, recent.pk]
    assert _pks(client.get(RECORDS + "?overdue=1")) == [late.pk]
    assert _pks(client.get(RECORDS + "?kind=training")) == [recent.pk]
    assert _pks(client.get(RECORDS + f"?handler={rep1.pk}")) == [late.pk]
    assert _pks(client.get(RECORDS + "?q=电机")) == [late.pk]
    assert _pks(client.get(RECORDS + "?status=resolved")) == [done.pk]


def test_a_service_record_is_followed_up_and_assigned_in_place(
    client: Any, rep1: Any, rep2: Any, manager: Any, outsider: Any
) -> None:
    record = _record(rep1, result="unresolved", staff=None, staff_name="")
    client.force_login(rep1)
    taken = client.post(f"{RECORDS}{record.pk}/assign/", {"staff": rep1.pk, "version": 1}, **HTMX)
    assert taken.status_code == 200
    followed = client.post(
        f"{RECORDS}{record.pk}/follow-up/", {"note": "寄出备件", "result": "resolved", "version": 2}, **HTMX
    )
    assert followed.status_code == 200 and "寄出备件" in followed.content.decode()
    assert 'data-testid="follow-up-notes"' in followed.content.decode()
    record.refresh_from_db()
    assert record.staff == rep1 and record.result == "resolved" and record.resolved_at is not None
    nothing = client.post(f"{RECORDS}{record.pk}/follow-up/", {"note": "", "result": "", "version": 3}, **HTMX)
    assert nothing.status_code == 422 and "请写下所做的处理" in nothing.content.decode()
    past = (timezone.localdate() - dt.timedelta(days=2)).isoformat()
    refused = client.post(f"{RECORDS}{record.pk}/follow-up/", {"due_date": past, "version": 3}, **HTMX)
    assert refused.status_code == 422 and "跟进期限须为今天或以后" in refused.content.decode()
    stale = client.post(f"{RECORDS}{record.pk}/follow-up/", {"note": "迟到", "version": 1}, **HTMX)
    assert stale.status_code == 409
    handed = client.post(f"{RECORDS}{record.pk}/assign/", {"staff": manager.pk, "version": 3}, **HTMX)
    assert handed.status_code == 422
    for user in (rep2, outsider):
        client.force_login(user)
        assert client.post(f"{RECORDS}{record.pk}/assign/", {"staff": user.pk, "version": 3}).status_code == 404
    client.force_login(manager)
    assert client.post(f"{RECORDS}{record.pk}/assign/", {"staff": manager.pk, "version": 3}, **HTMX).status_code == 200


def test_service_bulk_result(client: Any, rep1: Any) -> None:
    rows = [_record(rep1, result="follow_up") for _ in range(2)]
    client.force_login(rep1)
    done = client.post(f"{RECORDS}bulk/", {"ids": [r.pk for r in rows], "act": "status", "status": "resolved"})
    assert done.status_code == 302
    assert ServiceRecord.objects.filter(result="resolved", resolved_at__isnull=False).count() == 2


# ---------------------------------------------------------------- query counts
@pytest.mark.parametrize("url", [QUEUE, RECORDS])
def test_the_queues_cost_the_same_queries_for_5_or_50_rows(
    client: Any, manager: Any, rep1: Any, url: str, django_assert_max_num_queries: Any
) -> None:
    def fill(n: int) -> None:
        for _ in range(n):
            customer = CustomerFactory(owner=rep1, team=rep1.team)
            FeedbackFactory(customer=customer, handler=rep1)
            ServiceRecordFactory(customer=customer, result="partial", staff=rep1)

    client.force_login(manager)
    fill(5)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert len(client.get(url).context["items"]) == 5
    fill(45)
    with django_assert_max_num_queries(len(few)):
        page = client.get(url)
    assert len(page.context["items"]) == 50
