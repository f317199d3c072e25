"""Personal-data classification of the consent records.

Erasing a person (GDPR Art. 17), field by field:

- the ledger (`ConsentRecord`) is kept: it is the organization's proof that consent was given
  or withdrawn, which it must be able to demonstrate (Art. 7(1); Art. 17(3)(b) and (e)). It
  holds no readable personal value: a contact id, the purpose, the notice version, the action,
  the method and the time. The contact row itself is erased, so after erasure the id names a
  row that no longer exists (as the erasure ledger does), and the database never lets the
  ledger rows be changed or deleted anyway;
- the identifying parts of each ledger row (`ConsentEvidence`: IP address, user agent, what
  the form or staff recorded) are deleted;
- a sign-up awaiting confirmation (`PendingSignup`), found by the email's blind index, is
  deleted; unconfirmed sign-ups are deleted anyway after `SIGNUP_VALID` (services.signup).
"""

import datetime

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
    define_retention,
    delete_row,
    keep,
    not_personal,
    personal,
    registry,
)

PURPOSE = "consent_management"
define_purpose(
    PURPOSE,
    _("recording, proving and honouring consent to the organization's purposes (GDPR Art. 7)"),
    LegalBasis.LEGAL_OBLIGATION,
    role=Role.PROCESSOR,
)
LEDGER = "consent_ledger"
define_retention(
    LEDGER,
    _(
        "while the organization may have to prove consent (GDPR Art. 7(1)); the identifying "
        "evidence is deleted when the person is erased, the ledger entry stays"
    ),
)
SIGNUP = "consent_signup"
define_retention(
    SIGNUP,
    _("until confirmed, at most 7 days (double opt-in)"),
    anchor="created_at",
    duration=datetime.timedelta(days=7),
)

THE_CONTACT_OF_RECORD = Subject("contact", "contact")
THE_CONTACT_OF_EVIDENCE = Subject("contact", "record__contact")
# A sign-up is matched to a contact by the blind index of the address (the same keyed digest).
THE_CONTACT_BY_EMAIL = Subject("contact", "email_index", "email_index")
PROOF = "kept as proof of consent (GDPR Art. 7(1), 17(3)(b) and (e)); holds no readable personal value"


def _ledger(category: str, plaintext: str = "") -> object:
    return personal(
        category,
        subject=THE_CONTACT_OF_RECORD,
        erasure=Erasure.KEEP,
        legal_basis=LegalBasis.LEGAL_OBLIGATION,
        retention=LEDGER,
        purpose=PURPOSE,
        plaintext=plaintext,
        note=PROOF,
    )


classify(
    "consent.Purpose",
    {
        "id": not_personal(),
        "organization": not_personal(),
        "key": not_personal("the organization's name for a purpose"),
        "name": not_personal("the organization's name for a purpose"),
        "is_active": not_personal(),
        "created_at": not_personal(),
    },
)

classify(
    "consent.NoticeVersion",
    {
        "id": not_personal(),
        "organization": not_personal(),
        "purpose": not_personal(),
        "version": not_personal(),
        "text": not_personal("the organization's published notice"),
        "text_sha256": not_personal("a digest of the published notice"),
        "published_at": not_personal(),
        "published_by": not_personal("the staff member who published it; a row reference"),
    },
)

classify(
    "consent.ConsentRecord",
    {
        "id": not_personal(),
        "organization": not_personal(),
        "contact": _ledger(Category.IDENTITY),
        "purpose": _ledger(Category.USAGE),
        "notice": _ledger(Category.USAGE),
        "action": _ledger(Category.USAGE, Plain.CHOICE),
        "method": _ledger(Category.USAGE, Plain.CHOICE),
        "recorded_at": _ledger(Category.USAGE, Plain.TIMESTAMP),
        "recorded_by": not_personal("the staff member who recorded it; a row reference"),
        "carried_from": not_personal("the ledger row this one repeats after a merge; a row reference"),
    },
    erasure=keep(LegalBasis.LEGAL_OBLIGATION),
)


def _evidence(category: str, *, provided: bool = False) -> object:
    return personal(
        category,
        subject=THE_CONTACT_OF_EVIDENCE,
        retention=LEDGER,
        purpose=PURPOSE,
        provided=provided,
    )


classify(
    "consent.ConsentEvidence",
    {
        "id": not_personal(),
        "organization": not_personal(),
        "record": not_personal(),
        "ip_address": _evidence(Category.DEVICE),
        "user_agent": _evidence(Category.DEVICE),
        "details": _evidence(Category.NOTES),
    },
    erasure=delete_row(),
)


def _signup(category: str, *, provided: bool = True, plaintext: str = "") -> object:
    return personal(
        category,
        subject=THE_CONTACT_BY_EMAIL,
        retention=SIGNUP,
        purpose=PURPOSE,
        provided=provided,
        plaintext=plaintext,
    )


classify(
    "consent.PendingSignup",
    {
        "id": not_personal(),
        "organization": not_personal(),
        "purpose": not_personal(),
        "notice": not_personal(),
        "email": _signup(Category.CONTACT),
        "email_index": _signup(Category.CONTACT, provided=False),
        "first_name": _signup(Category.IDENTITY),
        "ip_address": _signup(Category.DEVICE, provided=False),
        "user_agent": _signup(Category.DEVICE, provided=False),
        "page": _signup(Category.USAGE, provided=False),
        "language": _signup(Category.CONTACT, plaintext=Plain.CHOICE),
        "created_at": _signup(Category.USAGE, provided=False, plaintext=Plain.TIMESTAMP),
    },
    erasure=delete_row(),
)

# Audit details of consent events: the purpose's key, the notice version, the method.
registry.declare_audit_structural_keys("purpose", "method", "record", "ledger_rows_carried", "carried")


def _carry_on_merge(**kwargs) -> int:
    from consent.services.ledger import carry_consent_on_merge

    return carry_consent_on_merge(**kwargs)


registry.declare_merge_carrier("consent.ConsentRecord", _carry_on_merge)
