"""A narrow SECURITY DEFINER function for the stalled-job sweep: (organization, job) ids
across organizations, nothing else. logicnet.tenancy.rls hands it to the platform role
after migrate, so beat's application role finds the work without reaching any role that
reads every tenant; each job is then requeued inside its organization's tenant context.

The conditions are those of logicnet.jobs.services.stalled_jobs: a message never sent
(after a short grace) or sent long enough ago, of a queued job or a running job whose
lease expired, oldest first."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION logicnet_stalled_jobs(
    p_never_sent_before timestamptz, p_sent_before timestamptz, p_now timestamptz, p_limit integer
)
RETURNS TABLE(organization_id bigint, job_id bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT j.organization_id, j.id FROM jobs_job j
    WHERE ((j.sent_at IS NULL AND j.created_at < p_never_sent_before) OR j.sent_at < p_sent_before)
      AND (j.state = 'queued' OR (j.state = 'running' AND j.lease_expires_at < p_now))
    ORDER BY j.created_at
    LIMIT least(p_limit, 500)
$$;
REVOKE ALL ON FUNCTION logicnet_stalled_jobs(timestamptz, timestamptz, timestamptz, integer) FROM PUBLIC;
"""

DROP = "DROP FUNCTION IF EXISTS logicnet_stalled_jobs(timestamptz, timestamptz, timestamptz, integer);"


class Migration(migrations.Migration):
    dependencies = [("jobs", "0002_job_sent_at")]

    operations = [migrations.RunSQL(CREATE, DROP)]
