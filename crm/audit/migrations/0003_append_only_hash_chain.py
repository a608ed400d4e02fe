"""Make the audit table append-only and hash-chained, inside the database itself.

* ``audit_event_digest`` computes an event's SHA-256 over its previous digest and all
  its fields; the insert trigger and ``verify_audit`` both use it, so the two can never
  disagree about what a digest covers.
* The insert trigger locks the single chain-head row, numbers the event and chains it:
  concurrent writers are serialised in commit order and the chain has no gaps.
* UPDATE, DELETE and TRUNCATE on the audit table raise an error.  (TRUNCATE is allowed
  only to a session that sets ``crm.audit_maintenance = 'on'``, which the test runner's
  database flush does; no application path does.)
"""

from django.db import migrations

FORWARD = r"""
INSERT INTO audit_auditchainhead (id, seq, hash) VALUES (1, 0, '') ON CONFLICT (id) DO NOTHING;

CREATE OR REPLACE FUNCTION audit_event_digest(
    prev_hash text, seq bigint, occurred_at timestamptz, actor_id bigint, actor_label text, source text,
    request_id text, ip inet, action text, resource text, object_id text, object_repr text,
    customer_id bigint, changes jsonb
) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT encode(sha256(convert_to(concat_ws(E'\x1f',
        coalesce(prev_hash, ''), seq::text,
        to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'),
        coalesce(actor_id::text, ''), coalesce(actor_label, ''), coalesce(source, ''),
        coalesce(request_id, ''), coalesce(host(ip), ''), coalesce(action, ''), coalesce(resource, ''),
        coalesce(object_id, ''), coalesce(object_repr, ''), coalesce(customer_id::text, ''),
        coalesce(changes::text, '')
    ), 'UTF8')), 'hex')
$$;

CREATE OR REPLACE FUNCTION audit_event_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    head audit_auditchainhead%ROWTYPE;
BEGIN
    SELECT * INTO head FROM audit_auditchainhead WHERE id = 1 FOR UPDATE;
    IF NOT FOUND THEN
        -- The head row is created by this migration; recreate it if it was ever emptied
        -- (a test database flush), racing writers settle on one row through ON CONFLICT.
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

CREATE OR REPLACE FUNCTION audit_event_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' AND current_setting('crm.audit_maintenance', true) = 'on' THEN
        UPDATE audit_auditchainhead SET seq = 0, hash = '' WHERE id = 1;
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'audit events are append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_event_chain BEFORE INSERT ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_event_chain();
CREATE TRIGGER audit_event_no_update BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_event_refuse_change();
CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION audit_event_refuse_change();
"""

BACKWARD = r"""
DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_auditevent;
DROP TRIGGER IF EXISTS audit_event_no_update ON audit_auditevent;
DROP TRIGGER IF EXISTS audit_event_chain ON audit_auditevent;
DROP FUNCTION IF EXISTS audit_event_refuse_change();
DROP FUNCTION IF EXISTS audit_event_chain();
DROP FUNCTION IF EXISTS audit_event_digest(text, bigint, timestamptz, bigint, text, text, text, inet, text, text, text, text, bigint, jsonb);
"""


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
