"""Personal-data classification of the breach register.

The register describes incidents, never people: its texts are written by platform staff
about what happened and what was done, and the counts are counts. Who was told is kept per
person as an id and a delivery status (no address), for as long as the person is kept: it
proves the notification (GDPR Art. 5(2), 34) and goes when the person is erased."""

from django.utils.translation import gettext_lazy as _

from logicnet.personal_data.registry import (
    Category,
    Erasure,
    LegalBasis,
    Plain,
    Role,
    Subject,
    classify,
    define_purpose,
    delete_row,
    not_personal,
    personal,
)

PURPOSE = "breach_notification"
define_purpose(
    PURPOSE,
    _("notifying personal data breaches to the organizations and the people affected (GDPR Art. 33, 34)"),
    LegalBasis.LEGAL_OBLIGATION,
    role=Role.PROCESSOR,
)

_INCIDENT_TEXT = "describes the incident and the measures, written by platform staff; names no person"

FACTS = {
    "reference": not_personal(),
    "title": not_personal(_INCIDENT_TEXT),
    "aware_at": not_personal(),
    "occurred_at": not_personal(),
    "confidentiality": not_personal(),
    "integrity": not_personal(),
    "availability": not_personal(),
    "data_categories": not_personal("names of the registry's categories"),
    "subjects_approx": not_personal("a count"),
    "records_approx": not_personal("a count"),
    "consequences": not_personal(_INCIDENT_TEXT),
    "measures_taken": not_personal(_INCIDENT_TEXT),
    "measures_proposed": not_personal(_INCIDENT_TEXT),
    "contact_point": not_personal("Logicnet's published privacy contact (Art. 33(3)(b))"),
    "risk_level": not_personal(),
    "risk_rationale": not_personal(_INCIDENT_TEXT),
    "authority_notified_at": not_personal(),
    "authority_reference": not_personal("the authority's case number"),
    "late_reasons": not_personal(_INCIDENT_TEXT),
    "subjects_notified_at": not_personal(),
}

classify(
    "breaches.BreachIncident",
    {
        "id": not_personal(),
        **FACTS,
        "all_organizations": not_personal(),
        "organization_ids": not_personal("ids of the organizations in scope"),
        "period_start": not_personal(),
        "period_end": not_personal(),
        "created_by_id": not_personal("the staff member who opened it; a row reference"),
        "created_at": not_personal(),
        "updated_at": not_personal(),
    },
)

classify(
    "breaches.BreachUpdate",
    {
        "id": not_personal(),
        "incident": not_personal(),
        "text": not_personal(_INCIDENT_TEXT),
        "created_by_id": not_personal("the staff member who wrote it; a row reference"),
        "created_at": not_personal(),
    },
)

classify(
    "breaches.BreachNotice",
    {
        "id": not_personal(),
        "organization": not_personal(),
        "incident": not_personal(),
        **FACTS,
        "updates": not_personal(_INCIDENT_TEXT),
        "published_at": not_personal(),
        "scope_computed_at": not_personal(),
        "contacts_in_scope": not_personal("a count"),
        "users_in_scope": not_personal("a count"),
        "records_in_scope": not_personal("a count"),
        "organization_notified_at": not_personal(),
        "subjects_notice_requested_at": not_personal(),
        "subjects_notice_finished_at": not_personal(),
    },
)

THE_CONTACT = Subject("contact", "subject_id", also=(("kind", "contact"),))
THE_MEMBER = Subject("user", "subject_id", also=(("kind", "member"),))
THE_ACCOUNT_HOLDER = Subject("user", "subject_id", also=(("kind", "user"),))


def _told(plaintext, *, also_about=(THE_MEMBER, THE_ACCOUNT_HOLDER)):
    return personal(
        Category.USAGE,
        subject=THE_CONTACT,
        erasure=Erasure.DELETE_ROW,
        retention="contact",
        purpose=PURPOSE,
        plaintext=plaintext,
        also_about=also_about,
    )


classify(
    "breaches.BreachRecipient",
    {
        "id": not_personal(),
        "organization": not_personal(),
        "notice": not_personal(),
        "kind": not_personal(),
        "subject_id": _told("a row reference: the id of the contact or team member told"),
        "status": _told(Plain.CHOICE),
        "attempts": not_personal(),
        "error_code": not_personal("an SMTP reply code"),
        "last_attempt_at": _told(Plain.TIMESTAMP),
    },
    erasure=delete_row(),
)
