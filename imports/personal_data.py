"""Personal-data classification of the imports app.

An import row holds no value from the file: its type, size and header names, the mapping,
the options (tags, an owner, the source and lawful basis texts staff write about where the
data came from), counts and the job's checkpoint. The file itself and its per-row error
report are in the registry's "uploaded files" store (encrypted, deleted when the import
ends or after 7 days). The people imported are classified where they are stored
(contacts/personal_data.py)."""

from logicnet.personal_data.registry import (
    Category,
    Disclose,
    Erasure,
    classify,
    not_personal,
    personal,
    registry,
    user_via,
)


def _staff(lookup: str):
    return personal(
        Category.USAGE,
        subject=user_via(lookup),
        erasure=Erasure.BLANK,
        retention="account",
        purpose="team_activity",
        disclose=Disclose.NAME,
    )


_HEADERS = "the file's column names (never a cell's value) and the mapping of them to fields"

classify(
    "imports.Import",
    {
        "id": not_personal(),
        "organization": not_personal(),
        "kind": not_personal(),
        "status": not_personal(),
        "file_type": not_personal(),
        "file_size": not_personal("a size in bytes"),
        "file_chunks": not_personal("a count"),
        "file_info": not_personal(f"encoding, delimiter, row count and {_HEADERS}"),
        "detected_export": not_personal("the name of a known export format"),
        "columns": not_personal(_HEADERS),
        "options": not_personal(
            "mode, matching, tag names, the owner's id and the source and lawful basis texts staff write "
            "about the whole file (the form asks for no personal data)"
        ),
        "job": not_personal(),
        "revert_job": not_personal(),
        "checkpoint": not_personal("a count"),
        "created_count": not_personal("a count"),
        "updated_count": not_personal("a count"),
        "skipped_count": not_personal("a count"),
        "failed_count": not_personal("a count"),
        "cancel_requested": not_personal(),
        "revert_result": not_personal("counts"),
        "created_by": _staff("created_by"),
        "created_at": not_personal(),
        "started_at": not_personal(),
        "finished_at": not_personal(),
        "file_deleted_at": not_personal(),
        "reverted_at": not_personal(),
    },
)

classify(
    "imports.SavedMapping",
    {
        "id": not_personal(),
        "organization": not_personal(),
        "name": not_personal("a name staff give a mapping"),
        "kind": not_personal(),
        "headers": not_personal(_HEADERS),
        "columns": not_personal(_HEADERS),
        "created_by": _staff("created_by"),
        "created_at": not_personal(),
    },
)

# Audit `details` keys of the import events: counts and formats.
registry.declare_audit_structural_keys(
    "rows", "file_type", "bytes", "status", "created", "updated", "skipped", "failed"
)
