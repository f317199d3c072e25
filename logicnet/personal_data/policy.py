"""The shared privacy policy as data: purposes, retention rules, subject kinds and the
stores outside the database. Apps refer to these by key in their personal_data.py (and may
define purposes of their own there); the system check fails on a key nobody defined.

Loaded first by the app config, before any classification."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from logicnet.personal_data.registry import (
    LegalBasis,
    RetentionAction,
    Role,
    declare_store,
    declare_sub_processor,
    define_purpose,
    define_retention,
    define_subject_kind,
    registry,
)

# --- who the data is about ---------------------------------------------------------------------

define_subject_kind("user", _("account holder"), lambda: settings.AUTH_USER_MODEL, tenant=False)
define_subject_kind(
    "contact", _("contact of an organization"), lambda: settings.PERSONAL_DATA_CONTACT_MODEL, tenant=True
)

# --- recipients and sub-processors named by the purposes ------------------------------------------

HOSTING = declare_sub_processor(
    "hosting",
    name=_("The hosting provider of Logicnet"),
    service=_("servers, database and backups"),
    location=_("European Economic Area"),
    description=_("the hosting provider of Logicnet (servers and backups in the EEA)"),
)
MAIL = declare_sub_processor(
    "mail",
    name=_("The mail delivery provider of Logicnet"),
    service=_("delivery of the email Logicnet sends"),
    location=_("European Economic Area"),
    description=_("the mail delivery provider of Logicnet (in the EEA)"),
)
STRIPE = declare_sub_processor(
    "stripe",
    name="Stripe Payments Europe, Limited",
    service=_("payments and invoices of organizations"),
    location=_("Ireland (European Economic Area)"),
    description=_("Stripe (payments; account holders only)"),
)
TEAM = _("the organization's team members, as its access settings allow")
PLATFORM_ADMINS = _("Logicnet's platform administrators, for support and security, audited")

# --- purposes --------------------------------------------------------------------------------------

# Logicnet is the controller of its account holders' data.
define_purpose(
    "account",
    _("providing the user's account"),
    LegalBasis.CONTRACT,
    recipients=[PLATFORM_ADMINS],
    sub_processors=[HOSTING, MAIL],
)
define_purpose("sign_in", _("signing in securely"), LegalBasis.CONTRACT, sub_processors=[HOSTING])
define_purpose(
    "sessions",
    _("keeping the user signed in and letting them end sessions"),
    LegalBasis.CONTRACT,
    sub_processors=[HOSTING],
)
define_purpose("two_factor", _("two-factor authentication"), LegalBasis.LEGITIMATE_INTERESTS, sub_processors=[HOSTING])
define_purpose(
    "consent_records",
    _("proving which privacy policy was accepted and the age confirmation (GDPR Art. 7(1), 8)"),
    LegalBasis.LEGAL_OBLIGATION,
    sub_processors=[HOSTING],
)
define_purpose(
    "service",
    _("providing the service to the organization"),
    LegalBasis.CONTRACT,
    recipients=[TEAM, PLATFORM_ADMINS],
    sub_processors=[HOSTING, MAIL, STRIPE],
)
define_purpose(
    "access_control",
    _("deciding who may see what in an organization"),
    LegalBasis.CONTRACT,
    recipients=[TEAM],
    sub_processors=[HOSTING],
)
define_purpose(
    "invitations",
    _("inviting a team member"),
    LegalBasis.LEGITIMATE_INTERESTS,
    recipients=[TEAM],
    sub_processors=[HOSTING, MAIL],
)
define_purpose(
    "team_activity",
    _("recording which team member did what"),
    LegalBasis.LEGITIMATE_INTERESTS,
    recipients=[TEAM],
    sub_processors=[HOSTING],
)
define_purpose(
    "team_work",
    _("organizing the team's work: owners, assignees, shares and saved views"),
    LegalBasis.CONTRACT,
    recipients=[TEAM],
    sub_processors=[HOSTING],
)
define_purpose(
    "security_log",
    _("security and accountability log (GDPR Art. 5(2), 32)"),
    LegalBasis.LEGITIMATE_INTERESTS,
    recipients=[PLATFORM_ADMINS],
    sub_processors=[HOSTING],
)
# For the people an organization keeps in its CRM, the organization is the controller and
# Logicnet its processor (GDPR Art. 28): the legal basis is the organization's to choose;
# the default stated here is the common one (the organization's legitimate interests in
# managing its customer relationships), and its privacy settings say otherwise if needed.
define_purpose(
    "customer_relationships",
    _("managing the organization's customer relationships"),
    LegalBasis.LEGITIMATE_INTERESTS,
    role=Role.PROCESSOR,
    recipients=[TEAM],
    sub_processors=[HOSTING, MAIL],
)

# --- retention --------------------------------------------------------------------------------------

define_retention("account", _("while the user account exists; erased when the account is deleted"))
define_retention("membership", _("while the user belongs to the organization"))
define_retention(
    "contact",
    _(
        "while the organization keeps the contact; erased on request (GDPR Art. 17) or with the "
        "organization's data when it leaves; the organization may set a period without activity "
        "(no change, no interaction) after which the contact is anonymised"
    ),
    anchor="updated_at",
    action=RetentionAction.ANONYMISE,
    overridable=True,
    applies_to=["contacts.Contact"],
    activity=["activity.InteractionParticipant.occurred_at"],
)
define_retention(
    "interaction",
    _(
        "while the organization keeps the interaction; taken out of it when a participant is "
        "erased; the organization may set a period after which interactions are deleted"
    ),
    anchor="occurred_at",
    overridable=True,
    applies_to=["activity.Interaction"],
)
define_retention(
    "organization",
    _("while the organization is a customer; its data key is destroyed when it leaves"),
    action=RetentionAction.ANONYMISE,
)
define_retention(
    "invitation",
    _("until accepted or revoked, then 30 days"),
    anchor="created_at",
    duration=datetime.timedelta(days=30),
)
define_retention(
    "session",
    _("until sign-out or expiry (14 days)"),
    anchor="last_seen_at",
    duration=datetime.timedelta(days=14),
)
define_retention(
    "security_log",
    _("2 years: accountability and security of processing (GDPR Art. 5(2), 32)"),
    anchor="created_at",
    duration=datetime.timedelta(days=730),
)
define_retention(
    "job",
    _("90 days after the job finishes"),
    anchor="finished_at",
    duration=datetime.timedelta(days=90),
    action=RetentionAction.ANONYMISE,
)
define_retention(
    "data_package",
    _("access and portability packages: 30 days after they are made, then the file is deleted"),
    anchor="finished_at",
    duration=datetime.timedelta(days=30),
)
define_retention(
    "export_file",
    _("exported files: 24 hours after the export finished, then the file is deleted"),
    anchor="finished_at",
    duration=datetime.timedelta(hours=24),
)
define_retention("two_factor", _("while two-factor authentication is enabled for the account"))
define_retention(
    "email_confirmation",
    _("until the confirmation link expires (3 days)"),
    anchor="sent",
    duration=datetime.timedelta(days=3),
)

# --- stores outside the database --------------------------------------------------------------------

declare_store(
    "export_files",
    _("exported files"),
    holds=_("CSV and package files staff exported (contacts, members, access packages)"),
    erasure=_(
        "kept only until they expire (deleted by the retention sweep) and deleted with the "
        "organization; an erasure does not rewrite an export made before it: the exports made "
        "are listed to the person (GDPR Art. 19)"
    ),
    subject_kinds=["contact", "company", "user"],
    location="EXPORTS_DIR/<organization id>/",
)
declare_store(
    "uploaded_files",
    _("uploaded files"),
    holds=_("files staff uploaded (imports, attachments)"),
    erasure=_("import files are deleted when the import finishes; the folder is deleted with the organization"),
    subject_kinds=["contact", "company"],
    location="MEDIA_ROOT/<organization id>/",
)
declare_store(
    "mail_sent",
    _("mail sent"),
    holds=_("messages Logicnet sent (invitations, reminders, receipts); no copy is kept by Logicnet"),
    erasure=_("not reachable once delivered; the mail provider keeps delivery logs for its own limited period"),
    subject_kinds=["contact", "user"],
    location="the SMTP provider",
)
declare_store(
    "redis",
    _("cache and task broker (Redis)"),
    holds=_("rate-limit counters keyed by digests, task messages carrying ids only, cached pages"),
    erasure=_("expires by itself within hours; task arguments never carry personal data"),
    subject_kinds=["contact", "user"],
    location="REDIS_URL",
)
declare_store(
    "stripe",
    _("Stripe"),
    holds=_(
        "the billing contact of an organization (name, email, billing address, VAT identifier), its card "
        "(never seen by Logicnet: Stripe Checkout and the Billing Portal collect it) and its invoices"
    ),
    erasure=_(
        "the customer is deleted at Stripe when the organization leaves; invoices are kept there "
        "under the accounting law (GDPR Art. 6(1)(c))"
    ),
    subject_kinds=["user"],
    location="Stripe",
)
declare_store(
    "backups",
    _("database backups"),
    holds=_("copies of the database (personal fields encrypted)"),
    erasure=_(
        "rotated out after their retention; an erasure is recorded in the erasure ledger, "
        "replayed after any restore, and a destroyed data key makes the organization's copies unreadable"
    ),
    subject_kinds=["contact", "company", "user"],
    location="the hosting provider's backup storage (EEA)",
)

# Audit `details` keys that name structure, never a person's value (see Registry).
registry.declare_audit_structural_keys(
    "fields",
    "version",
    "kind",
    "participants",
    "entity",
    "key",
    "count",
    "ids",
    "shared",
    "params",
    "people_unlinked",
    "role",
    "from",
    "to",
    "reason",
    "event",
    "versions",
    "now_minor",
    "now_adult",
    "on",
    "viewed_at",
    "personal",
    "backup_codes",
    "stage",
    "throttled",
    "session",
    "deleted",
    "blanked",
    "privacy_policy_version",
    "invited_by",
    "master_key",
    "organizations",
    "retired",
    "values",
)
