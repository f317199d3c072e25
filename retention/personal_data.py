"""Personal-data classification of the retention app: periods are settings of the
organization; a legal hold names a contact or an interaction and the team member who set it."""

from logicnet.personal_data.registry import (
    Category,
    Disclose,
    Erasure,
    Subject,
    classify,
    delete_row,
    not_personal,
    personal,
    registry,
    user_via,
)

PURPOSE = "customer_relationships"


def _staff(lookup: str):
    return personal(
        Category.USAGE,
        subject=user_via(lookup),
        erasure=Erasure.BLANK,
        retention="account",
        purpose="team_activity",
        disclose=Disclose.NAME,
    )


classify(
    "retention.RetentionOverride",
    {
        "id": not_personal(),
        "organization": not_personal(),
        "rule": not_personal("a registry rule key"),
        "period_days": not_personal(),
        "updated_by": _staff("updated_by"),
        "updated_at": not_personal(),
    },
)
classify(
    "retention.LegalHold",
    {
        "id": not_personal(),
        "organization": not_personal(),
        # That the person's data is held is itself about them: it goes when they are erased.
        "contact": personal(
            Category.USAGE, subject=Subject("contact", "contact"), retention="contact", purpose=PURPOSE
        ),
        "interaction": personal(
            Category.USAGE,
            subject=Subject("contact", "interaction__participants"),
            retention="interaction",
            purpose=PURPOSE,
        ),
        "reference": not_personal("a case or matter number; the form asks for no personal data"),
        "created_by": _staff("created_by"),
        "created_at": not_personal(),
        "released_by": _staff("released_by"),
        "released_at": not_personal(),
    },
    erasure=delete_row(),
)

# Audit `details` keys of the sweep's and the settings' events: a registry rule key.
registry.declare_audit_structural_keys("rule")
