"""Personal-data classification of announcements.

Announcements are Logicnet's own texts. Who was mailed and how it went, who closed a banner,
and the account holder's answers about product news are account data (Logicnet is the
controller), kept while the account exists; the consent answers are the proof of consent
(GDPR Art. 7(1))."""

from django.utils.translation import gettext_lazy as _

from logicnet.personal_data.policy import HOSTING, MAIL
from logicnet.personal_data.registry import (
    Category,
    Erasure,
    LegalBasis,
    Plain,
    classify,
    define_purpose,
    delete_row,
    not_personal,
    personal,
    user_via,
)

ANNOUNCEMENTS = define_purpose(
    "service_announcements",
    _("service announcements and administrative messages about the account"),
    LegalBasis.CONTRACT,
    sub_processors=[HOSTING, MAIL],
)
PRODUCT_NEWS = define_purpose(
    "product_news",
    _("news about Logicnet's new features, only with the account holder's consent"),
    LegalBasis.CONSENT,
    sub_processors=[HOSTING, MAIL],
)

_TEXT = "Logicnet's own announcement, written by staff; names no person"

classify(
    "announcements.Announcement",
    {
        "id": not_personal(),
        "kind": not_personal(),
        "title_en": not_personal(_TEXT),
        "title_ro": not_personal(_TEXT),
        "body_en": not_personal(_TEXT),
        "body_ro": not_personal(_TEXT),
        "organization_ids": not_personal("ids of the organizations in the audience"),
        "owners_only": not_personal(),
        "plan_key": not_personal(),
        "send_email": not_personal(),
        "show_until": not_personal(),
        "created_by_id": not_personal("the staff member who wrote it; a row reference"),
        "created_at": not_personal(),
        "published_at": not_personal(),
        "mail_started_at": not_personal(),
        "mail_finished_at": not_personal(),
        "mail_total": not_personal("a count"),
    },
)


def _account(category, purpose, plaintext=Plain.CHOICE, provided=False):
    return personal(
        category,
        subject=user_via("user"),
        erasure=Erasure.DELETE_ROW,
        retention="account",
        purpose=purpose,
        plaintext=plaintext,
        provided=provided,
    )


classify(
    "announcements.AnnouncementDelivery",
    {
        "id": not_personal(),
        "announcement": _account(Category.USAGE, ANNOUNCEMENTS, plaintext=Plain.ACCOUNT),
        "user": _account(Category.IDENTITY, ANNOUNCEMENTS, plaintext=Plain.ACCOUNT),
        "status": _account(Category.USAGE, ANNOUNCEMENTS),
        "error": _account(Category.USAGE, ANNOUNCEMENTS, plaintext="the class of a delivery error, never a message"),
        "attempted_at": _account(Category.USAGE, ANNOUNCEMENTS, plaintext=Plain.TIMESTAMP),
    },
    erasure=delete_row(),
)

classify(
    "announcements.AnnouncementDismissal",
    {
        "id": not_personal(),
        "announcement": _account(Category.USAGE, ANNOUNCEMENTS, plaintext=Plain.ACCOUNT, provided=True),
        "user": _account(Category.IDENTITY, ANNOUNCEMENTS, plaintext=Plain.ACCOUNT),
        "dismissed_at": _account(Category.USAGE, ANNOUNCEMENTS, plaintext=Plain.TIMESTAMP),
    },
    erasure=delete_row(),
)

classify(
    "announcements.MarketingConsent",
    {
        "id": not_personal(),
        "user": _account(Category.IDENTITY, "consent_records", plaintext=Plain.ACCOUNT),
        "given": _account(Category.USAGE, "consent_records", provided=True),
        "method": _account(Category.USAGE, "consent_records"),
        "recorded_at": _account(Category.USAGE, "consent_records", plaintext=Plain.TIMESTAMP),
    },
    erasure=delete_row(),
)
