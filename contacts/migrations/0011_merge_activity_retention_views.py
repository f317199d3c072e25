"""Joins four changes made side by side: interactions and tasks moved to the activity app,
the retention sweep's probing token triggers, saved views for the deal list, and name-token
rows without foreign-key constraints (the bulk path)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0010_activity_models_moved_out"),
        ("contacts", "0010_retention_sweep_paths"),
        ("contacts", "0010_saved_view_entities"),
        ("contacts", "0010_name_tokens_without_constraints"),
    ]

    operations = []
