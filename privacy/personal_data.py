"""Personal-data classification of the privacy app's records.

A request holds the requester's contact details and what they wrote: the organization keeps
the request as proof that it answered (GDPR Art. 5(2), 12), but erasing the person blanks
every value that could identify them; the reference, the rights, the dates and the outcome
stay."""

from django.utils.translation import gettext_lazy as _

from logicnet.personal_data.registry import (
    Category,
    Erasure,
    LegalBasis,
    Plain,
    Role,
    Subject,
    blank,
    classify,
    define_purpose,
    not_personal,
    personal,
)

PURPOSE = "data_subject_requests"
define_purpose(
    PURPOSE,
    _("answering requests to exercise data-protection rights (GDPR Art. 12-22)"),
    LegalBasis.LEGAL_OBLIGATION,
    role=Role.PROCESSOR,
)
VIA_REQUEST_CONTACT = Subject("contact", "contact")
VIA_EVENT_CONTACT = Subject("contact", "request__contact")
# Logicnet's own requests (privacy.services.platform): about the account holder staff matched.
VIA_REQUEST_ACCOUNT = Subject("user", "account_holder")
VIA_EVENT_ACCOUNT = Subject("user", "request__account_holder")


def _request(category, *, subject=VIA_REQUEST_CONTACT, provided=True, plaintext=""):
    also_about = {VIA_REQUEST_CONTACT: (VIA_REQUEST_ACCOUNT,), VIA_EVENT_CONTACT: (VIA_EVENT_ACCOUNT,)}[subject]
    return personal(
        category,
        subject=subject,
        erasure=Erasure.BLANK,
        retention="contact",
        purpose=PURPOSE,
        provided=provided,
        plaintext=plaintext,
        also_about=also_about,
    )


classify(
    "privacy.PrivacySettings",
    {
        "id": not_personal(),
        "organization": not_personal(),
        # The controller is a business; a named officer is published on purpose (Art. 37(7)).
        "controller_name": not_personal("the organization's legal name, published on its privacy page"),
        "controller_address": not_personal("the organization's published address"),
        "contact_email": not_personal("the organization's published privacy address"),
        "dpo_contact": not_personal("the published contact of the data protection officer (Art. 37(7))"),
        "time_zone": not_personal(),
        "updated_at": not_personal(),
    },
)

# Erasing the person blanks what identifies them; the request stays as proof it was answered.
classify(
    "privacy.PrivacyRequest",
    {
        "id": not_personal(),
        "organization": not_personal(),
        "reference": not_personal("a random reference"),
        "rights": _request(Category.USAGE, plaintext=Plain.CHOICE),
        "status": not_personal(),
        "channel": not_personal(),
        "language": _request(Category.CONTACT, plaintext=Plain.CHOICE),
        "email": _request(Category.CONTACT),
        "email_index": _request(Category.CONTACT, provided=False),
        "phone": _request(Category.CONTACT),
        "phone_index": _request(Category.CONTACT, provided=False),
        "message": _request(Category.NOTES),
        "correction": _request(Category.NOTES),
        "objects_to_marketing": _request(Category.USAGE, plaintext=Plain.CHOICE),
        "priority": not_personal("a handling flag of the request (a report about a child's data comes first)"),
        "received_at": _request(Category.USAGE, plaintext=Plain.TIMESTAMP, provided=False),
        "due_on": not_personal(),
        "extended_due_on": not_personal(),
        "extension_reason": _request(Category.NOTES, provided=False),
        "confirmation_sent_at": not_personal(),
        "reminder_sent_at": not_personal(),
        "email_confirmed_at": _request(Category.USAGE, plaintext=Plain.TIMESTAMP, provided=False),
        "contact": _request(Category.IDENTITY, provided=False),
        "account_holder": personal(
            Category.IDENTITY, subject=VIA_REQUEST_ACCOUNT, erasure=Erasure.BLANK, retention="contact", purpose=PURPOSE
        ),
        "identity_confirmed_at": not_personal(),
        "identity_confirmed_by": not_personal("the staff member who confirmed; a row reference"),
        "assigned_to": not_personal("the staff member handling it; a row reference"),
        "duplicate_of": not_personal(),
        "denial_reason": _request(Category.NOTES, provided=False),
        "unfounded_justification": _request(Category.NOTES, provided=False),
        "closed_at": not_personal(),
        "updated_at": not_personal(),
    },
    erasure=blank(),
)

classify(
    "privacy.RequestEvent",
    {
        "id": not_personal(),
        "organization": not_personal(),
        "request": not_personal(),
        "kind": not_personal(),
        "actor": not_personal("the staff member who acted; a row reference"),
        "note": _request(Category.NOTES, subject=VIA_EVENT_CONTACT, provided=False),
        "details": not_personal("ids, names of rights and counts only"),
        "created_at": not_personal(),
    },
    erasure=blank(),
)

classify(
    "privacy.Suppression",
    {
        "id": not_personal(),
        "organization": not_personal(),
        "kind": not_personal(),
        # A keyed digest kept after erasure so that the person is not re-imported; it cannot
        # be read back, and only matches when the same address is entered again.
        "digest": not_personal("a keyed digest of an erased address, unreadable without the organization's key"),
        "reason": not_personal(),
        "created_at": not_personal(),
    },
)

classify(
    "privacy.ErasureRecord",
    {
        "id": not_personal(),
        "organization": not_personal(),
        "contact_id_erased": not_personal("the id of a row that no longer exists"),
        "request": not_personal(),
        "counts": not_personal(),
        "erased_by": not_personal("the staff member who confirmed; a row reference"),
        "erased_at": not_personal(),
    },
)
