"""The services behind the feedback and service queues: assign, status, respond, follow
up, the response time and overdue figures, and the bulk acts, for the owner, a teammate
or manager and an outsider."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from crm.audit.models import AuditEvent
from crm.core.errors import DomainError, OutOfScope, VersionConflict
from feedback import selectors, services
from feedback.models import Feedback, ServiceRecord
from feedback.selectors import QueueFilters
from tests.factories import CustomerFactory, FeedbackFactory, ServiceRecordFactory

pytestmark = pytest.mark.django_db


def _feedback(owner: Any, **kwargs: Any) -> Feedback:
    customer = CustomerFactory(owner=owner, team=owner.team)
    return FeedbackFactory(customer=customer, **kwargs)


def _record(owner: Any, **kwargs: Any) -> ServiceRecord:
    customer = CustomerFactory(owner=owner, team=owner.team)
    return ServiceRecordFactory(customer=customer, **kwargs)


# --------------------------------------------------------------------- assign
def test_the_owner_takes_feedback_and_the_change_is_audited(rep1: Any) -> None:
    item = _feedback(rep1)
    saved = services.feedback_assign(actor=rep1, instance=item, handler=rep1, expected_version=1)
    assert saved.handler == rep1 and saved.version == 2
    event = AuditEvent.objects.filter(object_id=str(item.pk), resource="feedback.feedback").latest("id")
    assert "handler" in event.changes and event.actor == rep1


def test_a_rep_cannot_hand_feedback_to_someone_else(rep1: Any, manager: Any) -> None:
    item = _feedback(rep1, handler=rep1)
    with pytest.raises(DomainError) as refused:
        services.feedback_assign(actor=rep1, instance=item, handler=manager, expected_version=1)
    assert "handler" in refused.value.field_errors
    item.refresh_from_db()
    assert item.handler == rep1 and item.version == 1


def test_a_manager_hands_feedback_to_the_teams_rep_but_not_to_an_outsider(
    rep1: Any, rep2: Any, manager: Any, outsider: Any
) -> None:
    item = _feedback(rep1)
    saved = services.feedback_assign(actor=manager, instance=item, handler=rep1, expected_version=1)
    assert saved.handler == rep1
    # rep2 is a teammate but does not see rep1's customer; the outsider sees nothing of it.
    for person in (rep2, outsider):
        with pytest.raises(OutOfScope) as refused:
            services.feedback_assign(actor=manager, instance=saved, handler=person, expected_version=2)
        assert "handler" in refused.value.field_errors


def test_a_stale_assign_is_a_conflict(rep1: Any, manager: Any) -> None:
    item = _feedback(rep1)
    services.feedback_assign(actor=manager, instance=item, handler=rep1, expected_version=1)
    with pytest.raises(VersionConflict):
        services.feedback_assign(actor=manager, instance=item, handler=manager, expected_version=1)


# --------------------------------------------------------------------- status
def test_status_moves_only_along_the_workflow(rep1: Any) -> None:
    item = _feedback(rep1, status="in_progress", response="已回电")
    with pytest.raises(DomainError) as refused:
        services.feedback_status_change(actor=rep1, instance=item, status="new", expected_version=1)
    assert "status" in refused.value.field_errors
    resolved = services.feedback_status_change(actor=rep1, instance=item, status="resolved", expected_version=1)
    closed = services.feedback_status_change(actor=rep1, instance=resolved, status="closed", expected_version=2)
    assert closed.status == "closed"
    with pytest.raises(DomainError):
        services.feedback_status_change(actor=rep1, instance=closed, status="resolved", expected_version=3)
    reopened = services.feedback_status_change(actor=rep1, instance=closed, status="in_progress", expected_version=3)
    assert reopened.status == "in_progress"


def test_feedback_is_not_resolved_without_a_response(rep1: Any) -> None:
    item = _feedback(rep1)
    with pytest.raises(DomainError) as refused:
        services.feedback_status_change(actor=rep1, instance=item, status="resolved", expected_version=1)
    assert "response" in refused.value.field_errors


# -------------------------------------------------------------------- respond
def test_the_first_response_is_kept_and_ends_the_response_time(rep1: Any) -> None:
    received = timezone.now() - dt.timedelta(hours=5)
    item = _feedback(rep1, received_at=received)
    answered = services.feedback_respond(
        actor=rep1, instance=item, response="已安排工程师明早上门", resolve=False, expected_version=1
    )
    assert answered.status == "in_progress" and answered.handler == rep1
    first = answered.first_response_at
    assert first is not None and answered.responded_at == first
    again = services.feedback_respond(
        actor=rep1, instance=answered, response="工程师已修复", resolve=True, expected_version=2
    )
    assert again.status == "resolved" and again.first_response_at == first and again.responded_at > first
    wait = selectors.feedback_wait(again)
    assert wait is not None and wait.answered and 5 * 3600 - 60 < wait.seconds < 5 * 3600 + 60
    assert not wait.late


def test_an_empty_response_is_refused(rep1: Any) -> None:
    item = _feedback(rep1)
    with pytest.raises(DomainError) as refused:
        services.feedback_respond(actor=rep1, instance=item, response="  ", resolve=True, expected_version=1)
    assert "response" in refused.value.field_errors


def test_the_response_time_is_late_past_the_deadline(rep1: Any, settings: Any) -> None:
    settings.CRM_FEEDBACK_RESPONSE_HOURS = 24
    now = timezone.now()
    waiting = _feedback(rep1, received_at=now - dt.timedelta(hours=30))
    fresh = _feedback(rep1, received_at=now - dt.timedelta(hours=2))
    late_answer = _feedback(
        rep1,
        received_at=now - dt.timedelta(days=3),
        status="in_progress",
        response="回复",
        responded_at=now - dt.timedelta(days=1),
        first_response_at=now - dt.timedelta(days=1),
    )
    assert selectors.feedback_wait(waiting, now) == selectors.Wait(30 * 3600, False, True)
    assert selectors.feedback_wait(fresh, now) == selectors.Wait(2 * 3600, False, False)
    late = selectors.feedback_wait(late_answer, now)
    assert late is not None and late.answered and late.late and late.seconds == 2 * 24 * 3600
    overdue = set(Feedback.objects.filter(selectors.feedback_overdue(now)))
    assert overdue == {waiting}, "answered feedback is no longer overdue, however late the answer"
    settings.CRM_FEEDBACK_RESPONSE_HOURS = 48
    assert not Feedback.objects.filter(selectors.feedback_overdue(now)).exists()


# ------------------------------------------------------------------- filters
def test_the_queue_filters_by_kind_handler_overdue_and_search(rep1: Any, manager: Any) -> None:
    now = timezone.now()
    complaint = _feedback(rep1, kind="complaint", subject="到货延迟", handler=rep1,
                          received_at=now - dt.timedelta(days=2))  # fmt: skip
    question = _feedback(rep1, kind="question", subject="咨询交期", handler=None)
    question.customer.name = "杭州远望机械"
    question.customer.save()

    def ids(**kwargs: Any) -> set[int]:
        return set(selectors.feedback_queue(user=manager, filters=QueueFilters(**kwargs)).values_list("pk", flat=True))

    def searched(text: str) -> set[int]:
        rows = selectors.feedback_queue(
            user=manager, filters=QueueFilters(search=text), searchable=("customer__name", "subject")
        )
        return set(rows.values_list("pk", flat=True))

    assert ids(kind="complaint") == {complaint.pk}
    assert ids(handler=str(rep1.pk)) == {complaint.pk}
    assert ids(handler="none") == {question.pk}
    assert ids(overdue=True) == {complaint.pk}
    assert searched("远望") == {question.pk} and searched("延迟") == {complaint.pk}
    mine = selectors.feedback_queue(user=rep1, filters=QueueFilters(handler="mine"))
    assert set(mine.values_list("pk", flat=True)) == {complaint.pk}
    counts = selectors.feedback_counts(rows=selectors.feedback_queue(user=manager, filters=QueueFilters()))
    assert counts["all"] == 2 and counts["new"] == 2 and counts["open"] == 2 and counts["overdue"] == 1


def test_the_queue_is_scoped_to_what_the_user_sees(rep1: Any, rep2: Any, manager: Any, outsider: Any) -> None:
    item = _feedback(rep1)

    def sees(user: Any) -> bool:
        return selectors.feedback_queue(user=user, filters=QueueFilters()).filter(pk=item.pk).exists()

    assert sees(rep1) and sees(manager) and not sees(rep2) and not sees(outsider)


# ----------------------------------------------------------------------- bulk
def test_bulk_assign_changes_only_rows_in_reach_and_audits_each(rep1: Any, manager: Any, outsider: Any) -> None:
    mine = [_feedback(rep1) for _ in range(3)]
    theirs = _feedback(outsider)
    changed = services.feedback_bulk_assign(actor=manager, ids=[*(f.pk for f in mine), theirs.pk], handler=rep1)
    assert changed == 3
    assert set(Feedback.objects.filter(handler=rep1).values_list("pk", flat=True)) == {f.pk for f in mine}
    theirs.refresh_from_db()
    assert theirs.handler is None and theirs.version == 1
    events = AuditEvent.objects.filter(resource="feedback.feedback", object_id__in=[str(f.pk) for f in mine])
    assert events.filter(action="update").count() == 3


def test_a_rep_may_bulk_take_but_not_bulk_hand_over(rep1: Any, manager: Any) -> None:
    rows = [_feedback(rep1) for _ in range(2)]
    assert services.feedback_bulk_assign(actor=rep1, ids=[r.pk for r in rows], handler=rep1) == 2
    with pytest.raises(DomainError):
        services.feedback_bulk_assign(actor=rep1, ids=[r.pk for r in rows], handler=manager)
    assert Feedback.objects.filter(handler=rep1).count() == 2


def test_bulk_status_skips_what_the_workflow_refuses(rep1: Any) -> None:
    answered = _feedback(rep1, status="in_progress", response="已处理")
    unanswered = _feedback(rep1)
    changed, skipped = services.feedback_bulk_status(actor=rep1, ids=[answered.pk, unanswered.pk], status="resolved")
    assert (changed, skipped) == (1, 1)
    answered.refresh_from_db()
    unanswered.refresh_from_db()
    assert answered.status == "resolved" and unanswered.status == "new"


def test_bulk_needs_a_selection(rep1: Any) -> None:
    with pytest.raises(DomainError):
        services.feedback_bulk_status(actor=rep1, ids=[], status="in_progress")
    with pytest.raises(DomainError):
        services.feedback_bulk_status(actor=rep1, ids=[1], status="magic")


# -------------------------------------------------------------------- service
def test_a_follow_up_adds_a_signed_note_and_resolving_stamps_it(rep1: Any) -> None:
    record = _record(rep1, result="follow_up", service_date=timezone.localdate() - dt.timedelta(days=2))
    noted = services.service_record_follow_up(
        actor=rep1, instance=record, note="已电话回访", result=None, expected_version=1
    )
    assert "已电话回访" in noted.follow_up and str(rep1) in noted.follow_up and noted.result == "follow_up"
    assert noted.staff == rep1, "a record nobody followed up is now the note writer's"
    done = services.service_record_follow_up(
        actor=rep1, instance=noted, note="更换配件后正常", result="resolved", expected_version=2
    )
    assert done.resolved_at is not None and done.follow_up.count("\n") == 1
    figure = selectors.service_follow_up(done)
    assert figure.resolved and not figure.at_visit and figure.days == 2
    reopened = services.service_record_follow_up(
        actor=rep1, instance=done, note="", result="unresolved", expected_version=3
    )
    assert reopened.resolved_at is None
    with pytest.raises(DomainError):
        services.service_record_follow_up(actor=rep1, instance=reopened, note=" ", result=None, expected_version=4)


def test_service_overdue_uses_its_date_or_the_default_days(rep1: Any, settings: Any) -> None:
    settings.CRM_SERVICE_FOLLOW_UP_DAYS = 3
    today = timezone.localdate()
    old = _record(rep1, result="partial", service_date=today - dt.timedelta(days=5))
    dated = _record(rep1, result="partial", service_date=today - dt.timedelta(days=5),
                    due_date=today + dt.timedelta(days=1))  # fmt: skip
    past_date = _record(rep1, result="unresolved", service_date=today - dt.timedelta(days=1),
                        due_date=today - dt.timedelta(days=1))  # fmt: skip
    _record(rep1, result="resolved", service_date=today - dt.timedelta(days=30))
    recent = _record(rep1, result="follow_up", service_date=today - dt.timedelta(days=2))
    overdue = set(ServiceRecord.objects.filter(selectors.service_overdue(today)))
    assert overdue == {old, past_date}
    assert selectors.service_follow_up(old, today).late and not selectors.service_follow_up(dated, today).late
    in_time = selectors.FollowUp(2, resolved=False, at_visit=False, late=False, due=today + dt.timedelta(days=1))
    assert selectors.service_follow_up(recent, today) == in_time
    rows = selectors.service_queue(user=rep1, filters=QueueFilters(overdue=True))
    assert set(rows) == {old, past_date}
    counts = selectors.service_counts(rows=selectors.service_queue(user=rep1, filters=QueueFilters()))
    assert counts["open"] == 4 and counts["overdue"] == 2 and counts["resolved"] == 1


def test_service_assign_and_bulk_follow_the_same_rules(rep1: Any, manager: Any, outsider: Any) -> None:
    record = _record(rep1, result="follow_up", staff=None)
    taken = services.service_record_assign(actor=rep1, instance=record, staff=rep1, expected_version=1)
    assert taken.staff == rep1 and taken.staff_name == str(rep1)
    with pytest.raises(DomainError):
        services.service_record_assign(actor=rep1, instance=taken, staff=manager, expected_version=2)
    with pytest.raises(OutOfScope):
        services.service_record_assign(actor=manager, instance=taken, staff=outsider, expected_version=2)
    others = [_record(rep1, result="partial") for _ in range(2)]
    assert services.service_record_bulk_assign(actor=manager, ids=[r.pk for r in others], staff=manager) == 2
    changed, same = services.service_record_bulk_result(
        actor=manager, ids=[record.pk, *(r.pk for r in others)], result="resolved"
    )
    assert (changed, same) == (3, 0)
    assert ServiceRecord.objects.filter(result="resolved", resolved_at__isnull=False).count() == 3
    assert services.service_record_bulk_result(actor=outsider, ids=[record.pk], result="partial") == (0, 0)


def test_the_api_lists_overdue_feedback_and_service_records(api: Any, rep1: Any) -> None:
    now = timezone.now()
    late = _feedback(rep1, received_at=now - dt.timedelta(hours=30))
    _feedback(rep1, received_at=now - dt.timedelta(hours=1))
    stale = _record(rep1, result="partial", service_date=timezone.localdate() - dt.timedelta(days=9))
    _record(rep1, result="resolved", service_date=timezone.localdate() - dt.timedelta(days=9))
    client = api(rep1)
    feedback = client.get("/api/v1/feedback/?overdue=true").json()["results"]
    assert [row["id"] for row in feedback] == [late.pk] and feedback[0]["first_response_at"] is None
    records = client.get("/api/v1/service-records/?overdue=true").json()["results"]
    assert [row["id"] for row in records] == [stale.pk] and "follow_up" in records[0]


def test_a_follow_up_sets_the_next_date_and_that_ends_the_overdue(rep1: Any) -> None:
    today = timezone.localdate()
    record = _record(rep1, result="partial", service_date=today - dt.timedelta(days=9))
    assert ServiceRecord.objects.filter(selectors.service_overdue(), pk=record.pk).exists()
    with pytest.raises(DomainError) as refused:
        services.service_record_follow_up(
            actor=rep1, instance=record, note="", result=None, due_date=today - dt.timedelta(days=1),
            expected_version=1,
        )  # fmt: skip
    assert "due_date" in refused.value.field_errors
    later = services.service_record_follow_up(
        actor=rep1, instance=record, note="客户下周到货后再装", result=None, due_date=today + dt.timedelta(days=7),
        expected_version=1,
    )  # fmt: skip
    assert later.due_date == today + dt.timedelta(days=7)
    assert not ServiceRecord.objects.filter(selectors.service_overdue(), pk=record.pk).exists()
    cleared = services.service_record_follow_up(
        actor=rep1, instance=later, note="", result=None, due_date=None, expected_version=2
    )
    assert cleared.due_date is None and cleared.version == 3
