"""Personal-data classification of the accounts models (see logicnet/personal_data)."""

from django.utils.translation import gettext_lazy as _

from logicnet.personal_data.policy import HOSTING, MAIL
from logicnet.personal_data.registry import (
    THE_USER,
    Category,
    Erasure,
    LegalBasis,
    Plain,
    Subject,
    classify,
    declare_store,
    define_purpose,
    not_personal,
    personal,
    user_via,
)

ACCOUNT = "account"
# The account holder's own requests and choices at /account/privacy/ (accounts/account_rights.py).
PRIVACY_RIGHTS = define_purpose(
    "account_privacy_rights",
    _("answering the account holder's data-protection requests and keeping their choices (GDPR Art. 12-21)"),
    LegalBasis.LEGAL_OBLIGATION,
    sub_processors=[HOSTING, MAIL],
)
declare_store(
    "account_packages",
    _("account data packages"),
    holds=_("the zip an account holder asked for with 'download my data', sealed with the platform key"),
    erasure=_("deleted 30 days after it was made, and at once when the account is deleted"),
    subject_kinds=["user"],
    location="ACCOUNT_PACKAGES_DIR",
)


def _account(
    category,
    *,
    subject=THE_USER,
    provided=False,
    purpose=ACCOUNT,
    retention="account",
    erasure=Erasure.DELETE_ROW,
    secret=False,
):
    return personal(
        category,
        subject=subject,
        erasure=erasure,
        retention=retention,
        purpose=purpose,
        provided=provided,
        plaintext=Plain.ACCOUNT,
        secret=secret,
    )


classify(
    "accounts.User",
    {
        "id": _account(Category.IDENTITY),
        # A salted hash: never handed out, not even to its owner (GDPR Art. 15(4)).
        "password": _account(Category.IDENTITY, purpose="sign_in", secret=True),
        "last_login": _account(Category.USAGE),
        "is_superuser": not_personal("platform role flag"),
        "email": _account(Category.CONTACT, provided=True),
        "full_name": _account(Category.IDENTITY, provided=True),
        "phone": _account(Category.CONTACT, provided=True),
        "is_active": not_personal(),
        "is_staff": not_personal("platform role flag"),
        "date_joined": _account(Category.USAGE),
        # Proof of consent and of the age confirmation (GDPR Art. 7(1), 8).
        "age_confirmed_at": _account(Category.USAGE, purpose="consent_records", provided=True),
        "privacy_policy_version": _account(Category.USAGE, purpose="consent_records", provided=True),
        "privacy_policy_accepted_at": _account(Category.USAGE, purpose="consent_records", provided=True),
        "language": _account(Category.USAGE, provided=True),
        # The account holder's restriction (GDPR Art. 18) and objection to marketing (Art. 21(2)).
        "processing_restricted_at": _account(Category.USAGE, purpose=PRIVACY_RIGHTS, provided=True),
        "marketing_opt_out_at": _account(Category.USAGE, purpose=PRIVACY_RIGHTS, provided=True),
        "deletion_requested_at": _account(Category.USAGE, purpose=PRIVACY_RIGHTS, provided=True),
        "groups": not_personal("platform permissions"),
        "user_permissions": not_personal("platform permissions"),
    },
)

# An organization's name can be a sole trader's own name; it is the owners' data then.
_OWNERS = Subject("user", "memberships__user")
classify(
    "accounts.Organization",
    {
        "id": not_personal(),
        "name": personal(
            Category.PROFESSIONAL,
            subject=_OWNERS,
            erasure=Erasure.ANONYMISE,
            retention="organization",
            purpose="service",
            provided=True,
            # Read before any key is unwrapped (the organization switcher, invitation mails,
            # the platform admin); anonymised when the organization leaves.
            plaintext="shown to members and platform administrators outside the tenant's key; "
            "anonymised by offboarding",
        ),
        "slug": not_personal("derived from the name once; not updated"),
        "country": not_personal(),
        "require_two_factor": not_personal(),
        "contact_visibility": not_personal(),
        "is_active": not_personal(),
        "created_at": not_personal(),
    },
)

classify(
    "accounts.Membership",
    {
        "id": not_personal(),
        "organization": not_personal(),
        "user": personal(
            Category.PROFESSIONAL,
            subject=user_via("user"),
            erasure=Erasure.DELETE_ROW,
            retention="membership",
            purpose="access_control",
            plaintext=Plain.CHOICE,
        ),
        "role": personal(
            Category.PROFESSIONAL,
            subject=user_via("user"),
            erasure=Erasure.DELETE_ROW,
            retention="membership",
            purpose="access_control",
            plaintext=Plain.CHOICE,
        ),
        "is_privacy_officer": personal(
            Category.PROFESSIONAL,
            subject=user_via("user"),
            erasure=Erasure.DELETE_ROW,
            retention="membership",
            purpose="access_control",
            plaintext=Plain.CHOICE,
        ),
        "created_at": personal(
            Category.USAGE,
            subject=user_via("user"),
            erasure=Erasure.DELETE_ROW,
            retention="membership",
            purpose="access_control",
            plaintext=Plain.TIMESTAMP,
        ),
    },
)

_INVITEE = Subject("user", "email__iexact", "email")
classify(
    "accounts.Invitation",
    {
        "id": not_personal(),
        "organization": not_personal(),
        "email": personal(
            Category.CONTACT,
            subject=_INVITEE,
            erasure=Erasure.DELETE_ROW,
            retention="invitation",
            purpose="invitations",
            plaintext="compared with the signing-in user's verified address before membership exists; "
            "deleted with the invitation",
        ),
        "role": not_personal(),
        "invited_by": personal(
            Category.PROFESSIONAL,
            subject=user_via("invited_by"),
            erasure=Erasure.BLANK,
            retention="invitation",
            purpose="invitations",
        ),
        "created_at": not_personal(),
        "accepted_at": not_personal(),
        "accepted_by": personal(
            Category.PROFESSIONAL,
            subject=user_via("accepted_by"),
            erasure=Erasure.BLANK,
            retention="invitation",
            purpose="invitations",
        ),
        "revoked_at": not_personal(),
    },
)

# Two-factor devices (accounts/two_factor_models.py): the seed is sealed with the platform
# key and backup codes are stored as salted hashes, so neither is readable from the table.
_TWO_FACTOR = "two_factor"


def _two_factor(category, *, subject=None, provided=False, plaintext="", secret=False):
    return personal(
        category,
        subject=subject or user_via("user"),
        erasure=Erasure.DELETE_ROW,
        retention="two_factor",
        purpose=_TWO_FACTOR,
        provided=provided,
        plaintext=plaintext,
        secret=secret,
    )


_DEVICE = {
    "id": not_personal(),
    "user": _two_factor(Category.IDENTITY),
    "name": _two_factor(Category.DEVICE, provided=True, plaintext=Plain.TWO_FACTOR),
    "confirmed": not_personal(),
    "created_at": _two_factor(Category.USAGE, plaintext=Plain.TIMESTAMP),
    "last_used_at": _two_factor(Category.USAGE, plaintext=Plain.TIMESTAMP),
    "throttling_failure_timestamp": _two_factor(Category.USAGE, plaintext=Plain.TIMESTAMP),
    "throttling_failure_count": not_personal(),
}
classify(
    "accounts.AuthenticatorDevice",
    {
        **_DEVICE,
        "sealed_key": _two_factor(Category.IDENTITY, plaintext=Plain.SEALED, secret=True),
        **{name: not_personal("TOTP parameters") for name in ("step", "t0", "digits", "tolerance", "drift", "last_t")},
    },
)
classify(
    "accounts.BackupCodeDevice",
    {**_DEVICE, "salt": not_personal("hash salt"), "iterations": not_personal("hash cost")},
)
classify(
    "accounts.BackupCode",
    {
        "id": not_personal(),
        "device": _two_factor(Category.IDENTITY, subject=user_via("device__user")),
        "code_hash": _two_factor(
            Category.IDENTITY, subject=user_via("device__user"), plaintext=Plain.HASHED, secret=True
        ),
    },
)


def _package(category, plaintext):
    return personal(
        category,
        subject=user_via("user"),
        erasure=Erasure.DELETE_ROW,
        retention="account",
        purpose=PRIVACY_RIGHTS,
        plaintext=plaintext,
    )


classify(
    "accounts.AccountDataPackage",
    {
        "id": not_personal(),
        "user": _package(Category.USAGE, Plain.ACCOUNT),
        "state": _package(Category.USAGE, Plain.CHOICE),
        "requested_at": _package(Category.USAGE, Plain.TIMESTAMP),
        "started_at": _package(Category.USAGE, Plain.TIMESTAMP),
        "finished_at": _package(Category.USAGE, Plain.TIMESTAMP),
        "size": not_personal("a byte count"),
        "sha256": not_personal("digest of the package, for integrity"),
    },
)
