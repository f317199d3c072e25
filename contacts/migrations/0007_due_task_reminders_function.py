"""A narrow SECURITY DEFINER function for the reminder sweep: it returns the ids of due
reminders across organizations, and nothing else. logicnet.tenancy.rls hands it to the
platform role after migrate (every public logicnet_* SECURITY DEFINER function), so beat's
application role can find the work without any role that reads every tenant; each reminder
is then sent inside its organization's tenant context."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION logicnet_due_task_reminders(p_now timestamptz, p_limit integer)
RETURNS TABLE(organization_id bigint, task_id bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT t.organization_id, t.id FROM contacts_task t
    WHERE t.due_at <= p_now AND t.done_at IS NULL AND t.reminder_sent_at IS NULL AND t.due_at IS NOT NULL
    ORDER BY t.due_at
    LIMIT least(p_limit, 500)
$$;
REVOKE ALL ON FUNCTION logicnet_due_task_reminders(timestamptz, integer) FROM PUBLIC;
"""

DROP = "DROP FUNCTION IF EXISTS logicnet_due_task_reminders(timestamptz, integer);"


class Migration(migrations.Migration):
    dependencies = [("contacts", "0006_saved_view_personal_params")]

    operations = [migrations.RunSQL(CREATE, DROP)]
