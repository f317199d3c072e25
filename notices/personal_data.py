"""Personal-data classification of the notices app.

Which policy version an account holder accepted, and when, is kept as proof of consent to
the policy (GDPR Art. 7(1)) for as long as the account exists. Policy versions and the
sub-processor list are Logicnet's own documents; an organization's objection to a
sub-processor names the team member who made it."""

from logicnet.personal_data.registry import (
    Category,
    Erasure,
    Plain,
    classify,
    delete_row,
    not_personal,
    personal,
    user_via,
)


def _acceptance(category, plaintext=""):
    return personal(
        category,
        subject=user_via("user"),
        erasure=Erasure.DELETE_ROW,
        retention="account",
        purpose="consent_records",
        provided=True,
        plaintext=plaintext,
    )


classify(
    "notices.PolicyVersion",
    {
        "id": not_personal(),
        "number": not_personal(),
        "published_at": not_personal(),
        "template": not_personal(),
        "text_en": not_personal("Logicnet's published policy text"),
        "text_ro": not_personal("Logicnet's published policy text"),
        "changes_en": not_personal("Logicnet's published summary of a change"),
        "changes_ro": not_personal("Logicnet's published summary of a change"),
        "content_hash": not_personal(),
        "notified_through": not_personal("a user id: how far the notice mail has gone"),
        "notices_finished_at": not_personal(),
    },
)

classify(
    "notices.PolicyAcceptance",
    {
        "id": not_personal(),
        "user": _acceptance(Category.USAGE),
        "version": _acceptance(Category.USAGE),
        "accepted_at": _acceptance(Category.USAGE, Plain.TIMESTAMP),
    },
    erasure=delete_row(),
)

classify(
    "notices.SubProcessor",
    {
        "id": not_personal(),
        "key": not_personal(),
        "name": not_personal("a company's name"),
        "service": not_personal(),
        "location": not_personal(),
        "in_eea": not_personal(),
        "listed_since": not_personal(),
        "removed_at": not_personal(),
    },
)

classify(
    "notices.SubProcessorChange",
    {
        "id": not_personal(),
        "summary": not_personal("Logicnet's published notice"),
        "announced_at": not_personal(),
        "objection_until": not_personal(),
        "notified_through": not_personal("an organization id: how far the notice mail has gone"),
        "notices_finished_at": not_personal(),
    },
)

classify(
    "notices.SubProcessorObjection",
    {
        "id": not_personal(),
        "organization": not_personal(),
        "change": not_personal(),
        "objected_by": personal(
            Category.PROFESSIONAL,
            subject=user_via("objected_by"),
            erasure=Erasure.BLANK,
            retention="organization",
            purpose="team_activity",
        ),
        "objected_at": not_personal("when the organization objected; the person goes with objected_by"),
    },
)
