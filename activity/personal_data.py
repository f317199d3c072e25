"""Personal-data classification of interactions and tasks (the organization is the
controller, Logicnet the processor). An interaction is about its participants: erasing one
takes them out of it, and the interaction goes when nobody is left; a task goes with its
contact."""

from logicnet.personal_data.registry import (
    Category,
    Disclose,
    Erasure,
    Plain,
    Subject,
    classify,
    delete_row,
    not_personal,
    personal,
    unlink,
    user_via,
)

PURPOSE = "customer_relationships"
VIA_CONTACT = Subject("contact", "contact")


def _staff(lookup: str, purpose: str = "team_activity", erasure: str = Erasure.BLANK) -> object:
    """A team member named on an activity row (the user is the subject; Logicnet the
    controller). In a contact's access package the team member shows by name only."""
    return personal(
        Category.USAGE,
        subject=user_via(lookup),
        erasure=erasure,
        retention="account",
        purpose=purpose,
        disclose=Disclose.NAME,
    )


def _of_contact(category, *, provided=True, plaintext=""):
    """A value about the linked contact; erased the way its model says (the row goes)."""
    return personal(
        category, subject=VIA_CONTACT, retention="contact", purpose=PURPOSE, provided=provided, plaintext=plaintext
    )


# An interaction is about its participants; its text may hold anything about them.
INTERACTION_SUBJECT = Subject("contact", "participants")
classify(
    "activity.Interaction",
    {
        "id": not_personal(),
        "organization": not_personal(),
        "kind": not_personal(),
        "occurred_at": personal(
            Category.USAGE,
            subject=INTERACTION_SUBJECT,
            retention="interaction",
            purpose=PURPOSE,
            plaintext=Plain.TIMESTAMP,
        ),
        "author": _staff("author"),
        "subject": personal(
            Category.NOTES,
            subject=INTERACTION_SUBJECT,
            retention="interaction",
            purpose=PURPOSE,
        ),
        "body": personal(
            Category.NOTES,
            subject=INTERACTION_SUBJECT,
            retention="interaction",
            purpose=PURPOSE,
        ),
        "company": not_personal(),
        "deal": not_personal("a link to the deal; the deal's people are among the participants"),
        "participants": personal(
            Category.USAGE,
            subject=INTERACTION_SUBJECT,
            retention="interaction",
            purpose=PURPOSE,
        ),
        "created_at": not_personal(),
    },
    # Taken out of the interaction; the interaction goes when no participant is left, so a
    # meeting with three people does not vanish because one of them asked (GDPR Art. 17
    # reaches this person's data, not the others').
    erasure=unlink(through="activity.InteractionParticipant", parent="interaction", subject="contact"),
)
classify(
    "activity.InteractionParticipant",
    {
        "id": not_personal(),
        "organization": not_personal(),
        "interaction": _of_contact(Category.USAGE, provided=False),
        "contact": _of_contact(Category.USAGE, provided=False),
        "occurred_at": _of_contact(Category.USAGE, provided=False, plaintext=Plain.TIMESTAMP),
    },
    erasure=delete_row(),
)
classify(
    "activity.Task",
    {
        "id": not_personal(),
        "organization": not_personal(),
        "title": _of_contact(Category.NOTES, provided=False),
        "due_at": not_personal(),
        "assignee": _staff("assignee", "team_work"),
        "contact": _of_contact(Category.USAGE, provided=False),
        "company": not_personal(),
        "deal": not_personal(),
        "done_at": not_personal(),
        "reminder_sent_at": not_personal(),
        "created_by": _staff("created_by"),
        "created_at": not_personal(),
    },
    erasure=delete_row(),
)
