"""Chain many audit events written in one transaction in linear time.

The insert trigger used to lock, read and update the single chain-head row for every
event.  Within one transaction each update leaves a row version the next event must
step over, none of them prunable until the transaction ends, so writing *n* events in
one transaction cost *n²*/2 steps: 8,000 events took 1.45 s and 32,000 about 20 s (an
import of 300,000 rows in one transaction would have spent most of an hour there).

Now the first event of a transaction takes the head row with an update that changes
nothing (writers are still serialised in commit order, the chain still has no gaps),
and the transaction keeps its running head in a transaction-local setting
(``crm.audit_pending``, ``txid:seq:hash``; empty, not unset, in a later transaction of
the same session, so every cast of it is guarded), which a rolled-back savepoint rolls
back with its events.  That update queues a deferred constraint trigger on the head row,
which writes the running head into it once, just before the commit, while the lock is
still held (the audit table itself has no deferred trigger: nothing stays pending on
it).  Until then
``audit_chain_breaks`` reads the transaction's own running head.
"""

from django.db import migrations

FORWARD = r"""
CREATE OR REPLACE FUNCTION audit_event_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    pending text := current_setting('crm.audit_pending', true);
    head_seq bigint;
    head_hash text;
BEGIN
    IF pending IS NOT NULL AND split_part(pending, ':', 1) = txid_current()::text THEN
        head_seq := nullif(split_part(pending, ':', 2), '')::bigint;
        head_hash := split_part(pending, ':', 3);
    ELSE
        -- The transaction's first event takes the head (an update, so the deferred
        -- trigger below writes it back once, at the commit).
        UPDATE audit_auditchainhead SET seq = seq WHERE id = 1 RETURNING seq, hash INTO head_seq, head_hash;
        IF NOT FOUND THEN
            INSERT INTO audit_auditchainhead (id, seq, hash) VALUES (1, 0, '') ON CONFLICT (id) DO NOTHING;
            UPDATE audit_auditchainhead SET seq = seq WHERE id = 1 RETURNING seq, hash INTO head_seq, head_hash;
        END IF;
    END IF;
    NEW.seq := head_seq + 1;
    NEW.prev_hash := head_hash;
    NEW.hash := audit_event_digest(
        NEW.prev_hash, NEW.seq, NEW.occurred_at, NEW.actor_id, NEW.actor_label, NEW.source, NEW.request_id,
        NEW.ip, NEW.action, NEW.resource, NEW.object_id, NEW.object_repr, NEW.customer_id, NEW.changes
    );
    PERFORM set_config('crm.audit_pending', txid_current()::text || ':' || NEW.seq::text || ':' || NEW.hash, true);
    RETURN NEW;
END
$$;

CREATE OR REPLACE FUNCTION audit_event_head() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    pending text := current_setting('crm.audit_pending', true);
BEGIN
    IF pending IS NULL OR split_part(pending, ':', 1) <> txid_current()::text
       OR (NEW.seq = nullif(split_part(pending, ':', 2), '')::bigint AND NEW.hash = split_part(pending, ':', 3)) THEN
        RETURN NULL;
    END IF;
    UPDATE audit_auditchainhead SET seq = nullif(split_part(pending, ':', 2), '')::bigint, hash = split_part(pending, ':', 3)
    WHERE id = 1;
    RETURN NULL;
END
$$;
-- Only the update that takes the head (it changes nothing) queues the write.
CREATE CONSTRAINT TRIGGER audit_event_head AFTER UPDATE ON audit_auditchainhead
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (NEW.seq IS NOT DISTINCT FROM OLD.seq AND NEW.hash IS NOT DISTINCT FROM OLD.hash)
    EXECUTE FUNCTION audit_event_head();

CREATE OR REPLACE FUNCTION audit_event_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' AND current_setting('crm.audit_maintenance', true) = 'on' THEN
        UPDATE audit_auditchainhead SET seq = 0, hash = '' WHERE id = 1 AND (seq <> 0 OR hash <> '');
        PERFORM set_config('crm.audit_pending', '', true);
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'audit events are append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
"""

BACKWARD = r"""
DROP TRIGGER IF EXISTS audit_event_head ON audit_auditchainhead;
DROP FUNCTION IF EXISTS audit_event_head();
CREATE OR REPLACE FUNCTION audit_event_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' AND current_setting('crm.audit_maintenance', true) = 'on' THEN
        UPDATE audit_auditchainhead SET seq = 0, hash = '' WHERE id = 1;
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'audit events are append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE OR REPLACE FUNCTION audit_event_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    head audit_auditchainhead%ROWTYPE;
BEGIN
    SELECT * INTO head FROM audit_auditchainhead WHERE id = 1 FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO audit_auditchainhead (id, seq, hash) VALUES (1, 0, '') ON CONFLICT (id) DO NOTHING;
        SELECT * INTO head FROM audit_auditchainhead WHERE id = 1 FOR UPDATE;
    END IF;
    NEW.seq := head.seq + 1;
    NEW.prev_hash := head.hash;
    NEW.hash := audit_event_digest(
        NEW.prev_hash, NEW.seq, NEW.occurred_at, NEW.actor_id, NEW.actor_label, NEW.source, NEW.request_id,
        NEW.ip, NEW.action, NEW.resource, NEW.object_id, NEW.object_repr, NEW.customer_id, NEW.changes
    );
    UPDATE audit_auditchainhead SET seq = NEW.seq, hash = NEW.hash WHERE id = 1;
    RETURN NEW;
END
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_export_action")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
