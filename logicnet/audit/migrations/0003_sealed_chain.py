"""The audit log becomes one chain sealed afterwards with a keyed MAC (see logicnet/audit).

Writers only insert; the sealer links events in id order later. Existing events lose their
per-organization SHA-256 links (anyone with write access could recompute those) and are
sealed, in id order, by the first sealing run: run `verify_audit_log` of the previous
release before migrating if their old chains are to be checked once more.
"""

from django.db import migrations, models
from django.db.models import Q
from django.utils import timezone

DROP_OLD_GUARD = """
DROP TRIGGER IF EXISTS audit_event_append_only ON audit_auditevent;
DROP FUNCTION IF EXISTS audit_event_append_only();
"""

UNSEAL_EXISTING = "UPDATE audit_auditevent SET sequence = NULL, mac = NULL"

# The tenant wall of the application role (rls.py) lets it insert only rows of the active
# organization, and its INSERT ... RETURNING would need to read the row back. An audit writer
# must append events with no organization (a failed sign-in) or for an organization it does
# not act in (the access log drained in one batch for many organizations) without reading
# anything: this policy allows the append, still bound to the active organization when one is
# set, and grants no read. The owner's policy serves the SECURITY DEFINER functions below where
# the owner is not a superuser (row-level security is forced on the table).
POLICIES = """
DROP POLICY IF EXISTS audit_append ON audit_auditevent;
CREATE POLICY audit_append ON audit_auditevent FOR INSERT TO PUBLIC WITH CHECK (
    organization_id IS NULL
    OR NULLIF(current_setting('app.organization_id', true), '') IS NULL
    OR organization_id = NULLIF(current_setting('app.organization_id', true), '')::bigint
);
DROP POLICY IF EXISTS audit_definer ON audit_auditevent;
CREATE POLICY audit_definer ON audit_auditevent TO CURRENT_USER USING (true) WITH CHECK (true);
"""

# What the trigger allows, and nothing else, for every role including the owner (a change
# beyond it needs someone who disables the trigger on purpose, and verification then fails):
# - INSERT of an unsealed, unredacted event (a pre-sealed row would skip the sealer);
# - the sealer's one-time update: sequence and mac from NULL to a value, nothing else changed;
# - the redaction of one details value: the value becomes "[redacted]" and the MAC of what it
#   was is added to `redacted` under the same key, nothing else changed;
# - DELETE of a sealed event at or below the newest checkpoint (retention).
GUARD = """
CREATE OR REPLACE FUNCTION audit_event_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    added text[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.sequence IS NULL AND NEW.mac IS NULL AND NEW.redacted = '{}'::jsonb THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'the audit log is append-only (an event is inserted unsealed and unredacted)'
            USING ERRCODE = 'insufficient_privilege';
    ELSIF TG_OP = 'DELETE' THEN
        IF OLD.sequence IS NOT NULL
           AND OLD.sequence <= (SELECT max(c.sequence) FROM audit_auditcheckpoint c) THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION 'the audit log is append-only (DELETE refused: the event is not behind a checkpoint)'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF OLD.sequence IS NULL AND OLD.mac IS NULL AND NEW.sequence IS NOT NULL AND NEW.mac IS NOT NULL
       AND to_jsonb(NEW) - 'sequence' - 'mac' = to_jsonb(OLD) - 'sequence' - 'mac' THEN
        RETURN NEW;
    END IF;
    IF to_jsonb(NEW) - 'details' - 'redacted' = to_jsonb(OLD) - 'details' - 'redacted' THEN
        SELECT array_agg(k) INTO added FROM jsonb_object_keys(NEW.redacted) AS k WHERE NOT OLD.redacted ? k;
        IF cardinality(added) = 1
           AND OLD.details ? added[1]
           AND jsonb_typeof(NEW.redacted -> added[1]) = 'string'
           AND NEW.redacted = OLD.redacted || jsonb_build_object(added[1], NEW.redacted -> added[1])
           AND NEW.details = OLD.details || jsonb_build_object(added[1], '[redacted]') THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'the audit log is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_event_guard BEFORE INSERT OR UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_event_guard();

CREATE OR REPLACE FUNCTION audit_checkpoint_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit checkpoints are append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_checkpoint_append_only BEFORE UPDATE OR DELETE ON audit_auditcheckpoint
    FOR EACH ROW EXECUTE FUNCTION audit_checkpoint_append_only();
"""

# The three narrow privileged paths, owned by the owner role. EXECUTE is revoked from PUBLIC
# here and granted to the platform role after migrate (logicnet.audit.apps): the web role
# cannot seal (it could burn an event's one-time seal with a wrong MAC), redact or drop.
FUNCTIONS = """
CREATE OR REPLACE FUNCTION audit_seal_events(event_ids bigint[], sequences bigint[], macs text[])
RETURNS integer LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    WITH sealed AS (
        UPDATE audit_auditevent AS e SET sequence = s.sequence, mac = s.mac
        FROM unnest(event_ids, sequences, macs) AS s(id, sequence, mac)
        WHERE e.id = s.id AND e.sequence IS NULL
        RETURNING 1
    )
    SELECT count(*)::integer FROM sealed
$$;

CREATE OR REPLACE FUNCTION audit_redact_value(event_id bigint, value_key text, value_mac text)
RETURNS integer LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    WITH changed AS (
        UPDATE audit_auditevent
        SET details = details || jsonb_build_object(value_key, '[redacted]'),
            redacted = redacted || jsonb_build_object(value_key, value_mac)
        WHERE id = event_id AND details ? value_key AND NOT redacted ? value_key
        RETURNING 1
    )
    SELECT count(*)::integer FROM changed
$$;

CREATE OR REPLACE FUNCTION audit_drop_checkpointed(max_rows integer)
RETURNS integer LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    WITH dropped AS (
        DELETE FROM audit_auditevent WHERE id IN (
            SELECT id FROM audit_auditevent
            WHERE sequence <= (SELECT max(sequence) FROM audit_auditcheckpoint)
            ORDER BY sequence LIMIT max_rows
        )
        RETURNING 1
    )
    SELECT count(*)::integer FROM dropped
$$;

REVOKE ALL ON FUNCTION audit_seal_events(bigint[], bigint[], text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION audit_redact_value(bigint, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION audit_drop_checkpointed(integer) FROM PUBLIC;
"""

REVERSE = """
DROP FUNCTION IF EXISTS audit_seal_events(bigint[], bigint[], text[]);
DROP FUNCTION IF EXISTS audit_redact_value(bigint, text, text);
DROP FUNCTION IF EXISTS audit_drop_checkpointed(integer);
DROP TRIGGER IF EXISTS audit_event_guard ON audit_auditevent;
DROP FUNCTION IF EXISTS audit_event_guard();
DROP TRIGGER IF EXISTS audit_checkpoint_append_only ON audit_auditcheckpoint;
DROP FUNCTION IF EXISTS audit_checkpoint_append_only();
DROP POLICY IF EXISTS audit_append ON audit_auditevent;
DROP POLICY IF EXISTS audit_definer ON audit_auditevent;
"""


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only")]

    operations = [
        migrations.RunSQL(DROP_OLD_GUARD, migrations.RunSQL.noop),
        migrations.RemoveConstraint(model_name="auditevent", name="audit_chain_sequence"),
        migrations.RemoveField(model_name="auditevent", name="previous_hash"),
        migrations.RemoveField(model_name="auditevent", name="hash"),
        migrations.AlterField(model_name="auditevent", name="sequence", field=models.PositiveBigIntegerField(null=True)),
        migrations.AddField(
            model_name="auditevent", name="mac", field=models.CharField(max_length=64, null=True)
        ),
        migrations.AddField(model_name="auditevent", name="redacted", field=models.JSONField(default=dict)),
        migrations.RunSQL(UNSEAL_EXISTING, migrations.RunSQL.noop),
        migrations.AddConstraint(
            model_name="auditevent",
            constraint=models.UniqueConstraint(fields=["sequence"], name="audit_chain_sequence"),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["id"], condition=Q(sequence__isnull=True), name="audit_unsealed_idx"),
        ),
        migrations.CreateModel(
            name="AuditCheckpoint",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("sequence", models.PositiveBigIntegerField(unique=True)),
                ("event_id", models.BigIntegerField()),
                ("mac", models.CharField(max_length=64)),
                ("dropped_before", models.DateTimeField()),
                ("created_at", models.DateTimeField(default=timezone.now)),
                ("signature", models.CharField(max_length=64)),
            ],
        ),
        migrations.RunSQL(POLICIES + GUARD + FUNCTIONS, REVERSE),
    ]
