"""Interactions and tasks moved from the contacts app to the activity app: every row written
before the move is kept and still opens (its values were sealed under the contacts labels),
its links, reference checks and the reminder sweep follow the renamed tables."""

from __future__ import annotations

import datetime

from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from activity.models import Interaction, InteractionParticipant, Task
from activity.services import due_task_reminders, log_interaction
from contacts.services.contacts import create_contact
from logicnet.bulk.writes import BatchEncoder
from logicnet.encryption import crypto
from logicnet.encryption.keys import decrypt_value, encrypt_value
from logicnet.tenancy.context import tenant_context
from tests.conftest import use_database_role


def _sealed_in_contacts(organization_id: int, label: str, field: str, text: str) -> str:
    """A value as the contacts app sealed it before the move."""
    token = encrypt_value(organization_id, label, crypto.padded_field(field), crypto.pad(text.encode()))
    return crypto.to_padded_token(token)


def _opens_as(organization_id: int, label: str, field: str, token: str) -> str:
    padded = decrypt_value(organization_id, label, crypto.padded_field(field), token)
    return crypto.unpad(padded).decode()


def test_values_sealed_before_the_move_open_and_new_ones_are_sealed_alike(org_a, alice):
    ana = create_contact(organization=org_a, actor=alice, data={"first_name": "Ana"})
    interaction = log_interaction(
        organization=org_a,
        actor=alice,
        kind="call",
        occurred_at=timezone.now(),
        subject="Written after the move",
        body="",
        contacts=[ana],
    )
    with tenant_context(org_a), connection.cursor() as cursor:
        cursor.execute("SELECT subject FROM activity_interaction WHERE id = %s", [interaction.pk])
        (stored,) = cursor.fetchone()
        assert _opens_as(org_a.pk, "contacts.Interaction", "subject", stored) == "Written after the move"
        old = _sealed_in_contacts(org_a.pk, "contacts.Interaction", "body", "Written before the move")
        cursor.execute("UPDATE activity_interaction SET body = %s WHERE id = %s", [old, interaction.pk])
        assert Interaction.objects.get(pk=interaction.pk).body == "Written before the move"
        # The bulk path (imports, seeds) seals the same way.
        token = BatchEncoder(Task, org_a).seal("title", "Bulk title")
        assert _opens_as(org_a.pk, "contacts.Task", "title", token) == "Bulk title"


def test_the_move_keeps_every_row_its_links_and_the_reminder_sweep(committed_db, org_a, alice):
    """Back to the schema before the move, rows written there as the contacts app wrote
    them, then forward again through the move."""
    ana = create_contact(organization=org_a, actor=alice, data={"first_name": "Ana", "last_name": "Pop"})
    due = timezone.now() - datetime.timedelta(hours=1)
    with tenant_context(org_a):
        subject = _sealed_in_contacts(org_a.pk, "contacts.Interaction", "subject", "Before the move")
        title = _sealed_in_contacts(org_a.pk, "contacts.Task", "title", "Call back")
    use_database_role("owner")
    try:
        executor = MigrationExecutor(connection)
        executor.migrate([("activity", None)])
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO contacts_interaction (organization_id, kind, occurred_at, author_id, subject, body,"
                " created_at) VALUES (%s, 'call', %s, %s, %s, '', %s) RETURNING id",
                [org_a.pk, due, alice.pk, subject, due],
            )
            (interaction_id,) = cursor.fetchone()
            cursor.execute(
                "INSERT INTO contacts_interactionparticipant (organization_id, interaction_id, contact_id, occurred_at)"
                " VALUES (%s, %s, %s, %s)",
                [org_a.pk, interaction_id, ana.pk, due],
            )
            cursor.execute(
                "INSERT INTO contacts_task (organization_id, title, due_at, assignee_id, contact_id, created_by_id,"
                " created_at) VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
                [org_a.pk, title, due, alice.pk, ana.pk, alice.pk, due],
            )
            (task_id,) = cursor.fetchone()
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT confrelid::regclass::text FROM pg_constraint"
                " WHERE conrelid = 'retention_legalhold'::regclass AND contype = 'f' AND conname LIKE %s",
                ["%interaction%"],
            )
            assert cursor.fetchall() == [("activity_interaction",)]
            cursor.execute(
                "SELECT encode(tgargs, 'escape') FROM pg_trigger"
                " WHERE tgrelid = 'activity_interactionparticipant'::regclass AND tgname = 'tenant_ref_interaction_id'"
            )
            assert "activity_interaction" in cursor.fetchone()[0]
    finally:
        use_database_role("app")

    with tenant_context(org_a):
        interaction = Interaction.objects.get(pk=interaction_id)
        assert (interaction.subject, interaction.kind) == ("Before the move", "call")
        assert list(
            InteractionParticipant.objects.filter(interaction=interaction).values_list("contact_id", flat=True)
        ) == [ana.pk]
        task = Task.objects.get(pk=task_id)
        assert (task.title, task.contact_id) == ("Call back", ana.pk)
    assert (org_a.pk, task_id) in due_task_reminders()
    # New rows go through the renamed tables and their reference checks.
    later = log_interaction(
        organization=org_a,
        actor=alice,
        kind="note",
        occurred_at=timezone.now(),
        subject="After the move",
        body="",
        contacts=[ana],
    )
    with tenant_context(org_a):
        assert InteractionParticipant.objects.filter(contact=ana).count() == 2
        assert Interaction.objects.get(pk=later.pk).subject == "After the move"
