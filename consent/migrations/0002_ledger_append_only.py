"""The consent ledger and the published notice texts are append-only in the database.

Two walls: the application and platform roles have no UPDATE, DELETE or TRUNCATE on these
tables (APPEND_ONLY_TABLES in logicnet/tenancy/rls.py, re-applied after every migrate), and
this trigger refuses UPDATE and DELETE for every role, the owner included, so that changing
a proof of consent needs someone who drops the trigger on purpose.

Also the narrow SECURITY DEFINER function of the sweep that deletes sign-ups never
confirmed: the ids of expired pending sign-ups across organizations, and nothing else
(see logicnet/tenancy/sweeps.py).
"""

from django.db import migrations

GUARD = """
CREATE OR REPLACE FUNCTION consent_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER consent_record_append_only BEFORE UPDATE OR DELETE ON consent_consentrecord
    FOR EACH ROW EXECUTE FUNCTION consent_append_only();
CREATE TRIGGER consent_notice_append_only BEFORE UPDATE OR DELETE ON consent_noticeversion
    FOR EACH ROW EXECUTE FUNCTION consent_append_only();
"""

SWEEP = """
CREATE OR REPLACE FUNCTION logicnet_expired_consent_signups(p_created_before timestamptz)
RETURNS TABLE(organization_id bigint, signup_id bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT s.organization_id, s.id FROM consent_pendingsignup s
    WHERE s.created_at <= p_created_before
    ORDER BY s.created_at
    LIMIT 1000
$$;
REVOKE ALL ON FUNCTION logicnet_expired_consent_signups(timestamptz) FROM PUBLIC;
"""

REVERSE = """
DROP FUNCTION IF EXISTS logicnet_expired_consent_signups(timestamptz);
DROP TRIGGER IF EXISTS consent_record_append_only ON consent_consentrecord;
DROP TRIGGER IF EXISTS consent_notice_append_only ON consent_noticeversion;
DROP FUNCTION IF EXISTS consent_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("consent", "0001_purposes_notices_ledger")]

    operations = [migrations.RunSQL(GUARD + SWEEP, REVERSE)]
