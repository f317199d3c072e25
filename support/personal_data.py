"""Personal-data classification of support.

The support inbox is the account holder's correspondence with Logicnet (Logicnet is the
controller): kept two years after the last message, then deleted by the nightly platform
sweep (retention/services/sweep.py, `sweep_platform_tables`), screenshots with their rows.
The support access grants and their log belong to the organization: who granted, who opened
what and when, kept while the organization is a customer."""

import datetime

from django.utils.translation import gettext_lazy as _

from logicnet.personal_data.policy import HOSTING, MAIL, PLATFORM_ADMINS
from logicnet.personal_data.registry import (
    Category,
    Erasure,
    LegalBasis,
    Plain,
    classify,
    declare_store,
    define_purpose,
    define_retention,
    delete_row,
    not_personal,
    personal,
    user_via,
)

SUPPORT = define_purpose(
    "support",
    _("answering the account holder's requests to Logicnet support"),
    LegalBasis.CONTRACT,
    recipients=[PLATFORM_ADMINS],
    sub_processors=[HOSTING, MAIL],
)
SUPPORT_THREAD = define_retention(
    "support_thread",
    _("support requests and their answers: 2 years after the last message, then deleted"),
    anchor="last_activity_at",
    duration=datetime.timedelta(days=730),
    applies_to=["support.SupportRequest"],
)
declare_store(
    "support_screenshots",
    _("support screenshots"),
    holds=_("screenshots account holders attached to support requests, sealed with the platform key"),
    erasure=_("deleted with their request (account deletion or the two-year retention), by a daily sweep"),
    subject_kinds=["user"],
    location="SUPPORT_FILES_DIR/",
)


def _request(category, *, subject="user", plaintext="", provided=False):
    return personal(
        category,
        subject=user_via(subject),
        erasure=Erasure.DELETE_ROW,
        retention=SUPPORT_THREAD,
        purpose=SUPPORT,
        plaintext=plaintext,
        provided=provided,
    )


classify(
    "support.SupportRequest",
    {
        "id": not_personal(),
        "user": _request(Category.IDENTITY, plaintext=Plain.ACCOUNT),
        "about_organization_id": not_personal("which organization the request concerns, by id"),
        "subject": _request(Category.NOTES, plaintext=Plain.SEALED, provided=True),
        "status": not_personal("the request's state"),
        "created_at": _request(Category.USAGE, plaintext=Plain.TIMESTAMP),
        "last_activity_at": _request(Category.USAGE, plaintext=Plain.TIMESTAMP),
    },
    erasure=delete_row(),
)

classify(
    "support.SupportMessage",
    {
        "id": not_personal(),
        "request": _request(Category.IDENTITY, subject="request__user"),
        "from_staff": not_personal("whether support wrote it"),
        "staff_user_id": not_personal("the staff member who answered; a row reference"),
        "body": _request(Category.NOTES, subject="request__user", plaintext=Plain.SEALED, provided=True),
        "attachment_type": not_personal("an image type"),
        "attachment_size": not_personal("a size in bytes"),
        "created_at": _request(Category.USAGE, subject="request__user", plaintext=Plain.TIMESTAMP),
    },
    erasure=delete_row(),
)

_GRANT = "who in the organization granted or revoked support access (accountability of the organization's choice)"

classify(
    "support.SupportAccessGrant",
    {
        "id": not_personal(),
        "organization": not_personal(),
        "granted_by": personal(
            Category.PROFESSIONAL,
            subject=user_via("granted_by"),
            erasure=Erasure.BLANK,
            retention="organization",
            purpose="team_activity",
            note=_GRANT,
        ),
        "granted_at": not_personal(),
        "expires_at": not_personal(),
        "revoked_at": not_personal(),
        "revoked_by": personal(
            Category.PROFESSIONAL,
            subject=user_via("revoked_by"),
            erasure=Erasure.BLANK,
            retention="organization",
            purpose="team_activity",
            note=_GRANT,
        ),
    },
)

classify(
    "support.SupportAccessLog",
    {
        "id": not_personal(),
        "organization": not_personal(),
        "grant": not_personal(),
        "staff": personal(
            Category.PROFESSIONAL,
            subject=user_via("staff"),
            erasure=Erasure.BLANK,
            retention="organization",
            purpose="security_log",
            note="the platform staff member who opened the organization's data",
        ),
        "what": not_personal("a kind of page"),
        "target_id": not_personal("the contact opened, by id; the contact's own row is classified"),
        "opened_at": not_personal(),
    },
)
