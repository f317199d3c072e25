"""Queue one re-index job per active organization after the deploy that padded stored values
and truncated the name tokens (logicnet/encryption/reindex.py): until a row is re-indexed,
name search does not find it. The jobs are plain queued rows; beat's stalled-job check sends
every job that was never sent, so no broker is needed while migrating, and a database
without organizations (a new installation, the test database) gets none."""

from django.conf import settings
from django.db import migrations
from django.utils import timezone

REINDEX_JOB = "encryption.reindex"


def _forced(cursor, table: str) -> bool:
    cursor.execute("SELECT relforcerowsecurity FROM pg_class WHERE oid = %s::regclass", [table])
    row = cursor.fetchone()
    return bool(row and row[0])


def queue_reindex_jobs(apps, schema_editor):
    organization_model = apps.get_model(*settings.TENANCY_ORGANIZATION_MODEL.split("."))
    job_model = apps.get_model("jobs", "Job")
    tables = [organization_model._meta.db_table, job_model._meta.db_table]
    with schema_editor.connection.cursor() as cursor:
        # Forced row-level security also binds a table owner that is not a superuser (a
        # managed PostgreSQL); lifted for this migration's own statements only.
        forced = [table for table in tables if _forced(cursor, table)]
        for table in forced:
            cursor.execute(f'ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY')
        now = timezone.now()
        organization_ids = organization_model.objects.filter(is_active=True).values_list("pk", flat=True)
        job_model.objects.bulk_create(
            job_model(organization_id=pk, kind=REINDEX_JOB, params={}, created_at=now) for pk in organization_ids
        )
        # The deferred foreign-key checks of those rows run now: ALTER TABLE refuses a table
        # with pending trigger events.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for table in forced:
            cursor.execute(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY')


class Migration(migrations.Migration):
    dependencies = [
        ("encryption", "0002_organizationkey_encryptions"),
        ("jobs", "0002_job_sent_at"),
        ("accounts", "0004_invitation_one_pending_per_address"),
    ]
    operations = [migrations.RunPython(queue_reindex_jobs, migrations.RunPython.noop)]
