"""Reads of the audit trail: scoped listing and verification of the hash chain."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import QuerySet

from crm.access.scope import scoped_queryset

from .models import AuditEvent


def audit_event_list(*, user: Any) -> QuerySet[AuditEvent]:
    """Admins read the whole trail; everyone else the events of customers they may see."""
    return scoped_queryset(AuditEvent, user)


@dataclass(frozen=True)
class ChainBreak:
    seq: int | None
    problem: str


# One pass over the table, in seq order: each row's digest is recomputed with the same
# SQL function the insert trigger used, and compared with the stored digest, the next
# row's prev_hash and the sequence number.
_VERIFY_SQL = """
WITH chain AS (
    SELECT seq, hash, prev_hash,
           audit_event_digest(prev_hash, seq, occurred_at, actor_id, actor_label, source, request_id, ip, action,
                              resource, object_id, object_repr, customer_id, changes) AS recomputed,
           lag(hash) OVER (ORDER BY seq) AS previous_hash,
           lag(seq) OVER (ORDER BY seq) AS previous_seq,
           row_number() OVER (ORDER BY seq) AS position
    FROM audit_auditevent
)
SELECT seq,
       CASE
           WHEN seq IS NULL THEN 'event without a sequence number'
           WHEN hash IS DISTINCT FROM recomputed THEN 'digest does not match the content (edited)'
           WHEN position = 1 AND prev_hash <> '' AND seq = 1 THEN 'first event does not start the chain'
           WHEN position > 1 AND prev_hash IS DISTINCT FROM previous_hash THEN 'not chained to the previous event'
           WHEN position > 1 AND seq <> previous_seq + 1 THEN 'gap before this event (events removed)'
           WHEN position = 1 AND seq <> 1 THEN 'events before this one are missing'
       END AS problem
FROM chain
WHERE seq IS NULL
   OR hash IS DISTINCT FROM recomputed
   OR (position = 1 AND (seq <> 1 OR prev_hash <> ''))
   OR (position > 1 AND (prev_hash IS DISTINCT FROM previous_hash OR seq <> previous_seq + 1))
ORDER BY seq
LIMIT %s
"""

#: The head, as the current transaction sees it: the head row, or the running head of
#: the events this transaction wrote (written to the row just before it commits).
_HEAD_SQL = """
SELECT coalesce(p.seq, h.seq), coalesce(p.hash, h.hash), e.seq, e.hash
FROM audit_auditchainhead h
LEFT JOIN LATERAL (SELECT seq, hash FROM audit_auditevent ORDER BY seq DESC LIMIT 1) e ON true
LEFT JOIN LATERAL (
    -- Empty (not unset) after the session's first writing transaction: the cast is
    -- guarded, as the planner may compute it before the condition.
    SELECT nullif(split_part(v, ':', 2), '')::bigint AS seq, split_part(v, ':', 3) AS hash
    FROM (SELECT coalesce(current_setting('crm.audit_pending', true), '') AS v) s
    WHERE split_part(v, ':', 1) = txid_current_if_assigned()::text
) p ON true
WHERE h.id = 1
"""


def audit_chain_breaks(*, limit: int = 100) -> tuple[int, list[ChainBreak]]:
    """The number of events and every place (up to ``limit``) where the chain is broken."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM audit_auditevent")
        (count,) = cursor.fetchone()
        cursor.execute(_VERIFY_SQL, [limit])
        breaks = [ChainBreak(seq, problem) for seq, problem in cursor.fetchall()]
        cursor.execute(_HEAD_SQL)
        head = cursor.fetchone()
    if head is not None:
        head_seq, head_hash, last_seq, last_hash = head
        if (head_seq or 0) != (last_seq or 0) or (last_seq is not None and head_hash != last_hash):
            breaks.append(ChainBreak(last_seq, f"chain head says #{head_seq}: the newest events were removed"))
    elif count:
        breaks.append(ChainBreak(None, "the chain head row is missing"))
    return count, breaks


def audit_event_search(
    *,
    user: Any,
    actor: str = "",
    resource: str = "",
    customer_id: int | None = None,
    action: str = "",
    source: str = "",
    since: Any = None,
    until: Any = None,
    before_seq: int | None = None,
    limit: int = 50,
) -> list[AuditEvent]:
    """One page of the trail, newest first, narrowed by the console's filters.

    Pages are cut by sequence number (``before_seq``) rather than by offset, so the
    hundredth page costs what the first does on a trail of millions of events.
    """
    events = audit_event_list(user=user)
    if actor:
        from django.contrib.auth import get_user_model

        # Through the user's id, which is indexed with the time; the label is only a copy.
        events = events.filter(actor_id__in=get_user_model().objects.filter(username=actor).values("pk"))
    if resource:
        events = events.filter(resource=resource)
    if customer_id is not None:
        events = events.filter(customer_id=customer_id)
    if action:
        events = events.filter(action=action)
    if source:
        events = events.filter(source=source)
    if since is not None:
        events = events.filter(occurred_at__gte=since)
    if until is not None:
        events = events.filter(occurred_at__lte=until)
    if before_seq is not None:
        events = events.filter(seq__lt=before_seq)
    return list(events.order_by("-seq")[: limit + 1])
