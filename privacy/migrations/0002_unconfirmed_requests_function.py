"""A narrow SECURITY DEFINER function for beat's privacy-mail sweep: the ids of requests
still awaiting email confirmation that are owed a step (a confirmation never sent, the
reminder, or expiry), across organizations, and nothing else (see logicnet/tenancy/sweeps.py)."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION logicnet_unconfirmed_privacy_requests(
    p_mail_before timestamptz, p_remind_before timestamptz, p_expire_before timestamptz
)
RETURNS TABLE(organization_id bigint, request_id bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT r.organization_id, r.id FROM privacy_privacyrequest r
    WHERE r.status = 'awaiting_verification'
      AND ((r.confirmation_sent_at IS NULL AND r.received_at <= p_mail_before)
           OR (r.reminder_sent_at IS NULL AND r.received_at <= p_remind_before)
           OR r.received_at <= p_expire_before)
    ORDER BY r.received_at
    LIMIT 500
$$;
REVOKE ALL ON FUNCTION logicnet_unconfirmed_privacy_requests(timestamptz, timestamptz, timestamptz) FROM PUBLIC;
"""

DROP = "DROP FUNCTION IF EXISTS logicnet_unconfirmed_privacy_requests(timestamptz, timestamptz, timestamptz);"


class Migration(migrations.Migration):
    dependencies = [("privacy", "0001_initial")]

    operations = [migrations.RunSQL(CREATE, DROP)]
