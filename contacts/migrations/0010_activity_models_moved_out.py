"""Interactions, their participants and tasks now live in the activity app (activity 0001
renamed their tables in place): the contacts app forgets them, and nothing changes in the
database."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0009_import_matching_indexes"),
        ("retention", "0002_legal_hold_interaction_in_activity"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name="interactionparticipant",
                    name="interaction",
                ),
                migrations.RemoveField(
                    model_name="interactionparticipant",
                    name="contact",
                ),
                migrations.RemoveField(
                    model_name="interactionparticipant",
                    name="organization",
                ),
                migrations.RemoveField(
                    model_name="task",
                    name="assignee",
                ),
                migrations.RemoveField(
                    model_name="task",
                    name="company",
                ),
                migrations.RemoveField(
                    model_name="task",
                    name="contact",
                ),
                migrations.RemoveField(
                    model_name="task",
                    name="created_by",
                ),
                migrations.RemoveField(
                    model_name="task",
                    name="organization",
                ),
                migrations.DeleteModel(
                    name="Interaction",
                ),
                migrations.DeleteModel(
                    name="InteractionParticipant",
                ),
                migrations.DeleteModel(
                    name="Task",
                ),
            ],
        ),
    ]
