"""Personal-data classification of background jobs. Jobs carry ids, never personal data,
in their parameters (the broker is not encrypted); who started a job is the user's data."""

from logicnet.personal_data.registry import Category, Disclose, Erasure, classify, not_personal, personal, user_via

classify(
    "jobs.Job",
    {
        "id": not_personal(),
        "organization": not_personal(),
        "kind": not_personal(),
        "state": not_personal(),
        "progress_done": not_personal(),
        "progress_total": not_personal(),
        "params": not_personal("ids and options only"),
        "result": not_personal("counts and file references only"),
        "error": not_personal("the exception class and a generic text (logicnet/jobs/services.py safe_error_text)"),
        "attempts": not_personal(),
        "lease_expires_at": not_personal(),
        "sent_at": not_personal(),
        "created_by": personal(
            Category.USAGE,
            subject=user_via("created_by"),
            erasure=Erasure.BLANK,
            retention="job",
            purpose="team_activity",
            disclose=Disclose.NAME,
        ),
        "created_at": not_personal(),
        "started_at": not_personal(),
        "finished_at": not_personal(),
    },
)
