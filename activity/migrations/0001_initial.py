"""Interactions, their participants and tasks move here from the contacts app, keeping every
row: the state moves (contacts 0010 forgets the models), the tables are renamed in place.
A rename keeps each table's rows, indexes, constraints, foreign keys, row-level security
policies, triggers and id sequence (the id defaults name their sequence by oid);
logicnet.tenancy.rls re-checks all of them after migrate. The reminder sweep's SECURITY
DEFINER function names the task table in its body, so it is created again on the new name.
Encrypted values stay bound to their old model labels (`sealed_under` on the models)."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import logicnet.encryption.fields

TABLES = [
    ("contacts_interaction", "activity_interaction"),
    ("contacts_interactionparticipant", "activity_interactionparticipant"),
    ("contacts_task", "activity_task"),
]

REMINDERS_FUNCTION = """
CREATE OR REPLACE FUNCTION logicnet_due_task_reminders(p_now timestamptz, p_limit integer)
RETURNS TABLE(organization_id bigint, task_id bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT t.organization_id, t.id FROM {table} t
    WHERE t.due_at <= p_now AND t.done_at IS NULL AND t.reminder_sent_at IS NULL AND t.due_at IS NOT NULL
    ORDER BY t.due_at
    LIMIT least(p_limit, 500)
$$;
REVOKE ALL ON FUNCTION logicnet_due_task_reminders(timestamptz, integer) FROM PUBLIC;
"""


# The tenant reference triggers (logicnet.tenancy.rls) name the referenced table in their
# arguments: the two that point at the interactions' table are re-pointed here, so writes
# between this migration and the end of migrate (which re-creates every trigger) still work.
# On a new database the triggers do not exist yet and nothing is done.
REFERENCES_TO_INTERACTIONS = [
    ("activity_interactionparticipant", "contacts_interactionparticipant"),
    ("retention_legalhold", "retention_legalhold"),
]

REPOINT_TRIGGER = """
DO $$ BEGIN
    IF EXISTS (SELECT FROM pg_trigger WHERE tgrelid = '"{table}"'::regclass
               AND tgname = 'tenant_ref_interaction_id_ins')
    THEN
        -- Inserts checked once per statement, updates per row where the value changes.
        DROP TRIGGER tenant_ref_interaction_id_ins ON "{table}";
        DROP TRIGGER IF EXISTS tenant_ref_interaction_id ON "{table}";
        CREATE TRIGGER tenant_ref_interaction_id BEFORE UPDATE OF interaction_id ON "{table}"
            FOR EACH ROW WHEN (pg_trigger_depth() = 0 AND NEW.interaction_id IS DISTINCT FROM OLD.interaction_id)
            EXECUTE FUNCTION logicnet_tenant_reference_check('interaction_id', '{target}', 'id');
        CREATE TRIGGER tenant_ref_interaction_id_ins AFTER INSERT ON "{table}"
            REFERENCING NEW TABLE AS inserted_rows FOR EACH STATEMENT
            EXECUTE FUNCTION logicnet_tenant_references_inserted('interaction_id', '{target}', 'id');
    ELSIF EXISTS (SELECT FROM pg_trigger WHERE tgrelid = '"{table}"'::regclass
                  AND tgname = 'tenant_ref_interaction_id')
    THEN
        -- A database from before the statement-level checks: its one row trigger.
        DROP TRIGGER tenant_ref_interaction_id ON "{table}";
        CREATE TRIGGER tenant_ref_interaction_id BEFORE INSERT OR UPDATE OF interaction_id ON "{table}"
            FOR EACH ROW WHEN (pg_trigger_depth() = 0)
            EXECUTE FUNCTION logicnet_tenant_reference_check('interaction_id', '{target}', 'id');
    END IF;
END $$;
"""


def _renames(pairs) -> str:
    return "\n".join(f'ALTER TABLE "{old}" RENAME TO "{new}";' for old, new in pairs)


FORWARD = (
    _renames(TABLES)
    + REMINDERS_FUNCTION.format(table="activity_task")
    + "".join(
        REPOINT_TRIGGER.format(table=new, target="activity_interaction") for new, _old in REFERENCES_TO_INTERACTIONS
    )
)
BACKWARD = (
    _renames((new, old) for old, new in TABLES)
    + REMINDERS_FUNCTION.format(table="contacts_task")
    + "".join(
        REPOINT_TRIGGER.format(table=old, target="contacts_interaction") for _new, old in REFERENCES_TO_INTERACTIONS
    )
)


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("accounts", "0007_unconfirmed_email_owner_function"),
        ("contacts", "0009_import_matching_indexes"),
        # Its legal holds point at the interactions' table: created before the rename.
        ("retention", "0001_retention_rules_and_legal_holds"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunSQL(FORWARD, BACKWARD)],
            state_operations=[
                migrations.CreateModel(
                    name="Interaction",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "kind",
                            models.CharField(
                                choices=[
                                    ("note", "Note"),
                                    ("call", "Call"),
                                    ("meeting", "Meeting"),
                                    ("email", "Email"),
                                ],
                                default="note",
                                max_length=8,
                                verbose_name="type",
                            ),
                        ),
                        ("occurred_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="when")),
                        (
                            "subject",
                            logicnet.encryption.fields.EncryptedCharField(
                                blank=True, max_length=200, verbose_name="subject"
                            ),
                        ),
                        ("body", logicnet.encryption.fields.EncryptedTextField(blank=True, verbose_name="details")),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "author",
                            models.ForeignKey(
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "company",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="interactions",
                                to="contacts.company",
                            ),
                        ),
                        (
                            "organization",
                            models.ForeignKey(
                                editable=False,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="accounts.organization",
                            ),
                        ),
                    ],
                ),
                migrations.CreateModel(
                    name="InteractionParticipant",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("occurred_at", models.DateTimeField()),
                        (
                            "contact",
                            models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="contacts.contact"),
                        ),
                        (
                            "interaction",
                            models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="activity.interaction"),
                        ),
                        (
                            "organization",
                            models.ForeignKey(
                                editable=False,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="accounts.organization",
                            ),
                        ),
                    ],
                ),
                migrations.AddField(
                    model_name="interaction",
                    name="participants",
                    field=models.ManyToManyField(
                        related_name="interactions", through="activity.InteractionParticipant", to="contacts.contact"
                    ),
                ),
                migrations.CreateModel(
                    name="Task",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("title", logicnet.encryption.fields.EncryptedCharField(max_length=200, verbose_name="title")),
                        ("due_at", models.DateTimeField(blank=True, null=True, verbose_name="due")),
                        ("done_at", models.DateTimeField(blank=True, null=True)),
                        ("reminder_sent_at", models.DateTimeField(blank=True, editable=False, null=True)),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "assignee",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                                verbose_name="assignee",
                            ),
                        ),
                        (
                            "company",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="tasks",
                                to="contacts.company",
                            ),
                        ),
                        (
                            "contact",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="tasks",
                                to="contacts.contact",
                            ),
                        ),
                        (
                            "created_by",
                            models.ForeignKey(
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "organization",
                            models.ForeignKey(
                                editable=False,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="accounts.organization",
                            ),
                        ),
                    ],
                ),
                migrations.AddIndex(
                    model_name="interactionparticipant",
                    index=models.Index(
                        fields=["organization", "contact", "occurred_at"], name="participant_timeline_idx"
                    ),
                ),
                migrations.AddConstraint(
                    model_name="interactionparticipant",
                    constraint=models.UniqueConstraint(
                        fields=("organization", "interaction", "contact"), name="participant_unique"
                    ),
                ),
                migrations.AddIndex(
                    model_name="interaction",
                    index=models.Index(
                        fields=["organization", "company", "occurred_at"], name="interaction_company_idx"
                    ),
                ),
                migrations.AddIndex(
                    model_name="task",
                    index=models.Index(
                        fields=["organization", "assignee", "done_at", "due_at"], name="task_assignee_idx"
                    ),
                ),
                migrations.AddIndex(
                    model_name="task",
                    index=models.Index(fields=["organization", "contact", "due_at"], name="task_contact_idx"),
                ),
                migrations.AddIndex(
                    model_name="task",
                    index=models.Index(
                        condition=models.Q(
                            ("done_at__isnull", True), ("due_at__isnull", False), ("reminder_sent_at__isnull", True)
                        ),
                        fields=["due_at"],
                        name="task_reminder_due_idx",
                    ),
                ),
            ],
        ),
    ]
