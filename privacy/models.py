"""The privacy app's records: data-subject requests (GDPR Art. 15-22) and their timeline,
the organization's privacy settings, the erasure ledger and the suppression list.

Every request lives in PostgreSQL from the moment it is submitted (never only in a queue):
the legal month runs from receipt, and a request lost is a right denied.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from logicnet.encryption.fields import (
    BlindIndexField,
    EncryptedEmailField,
    EncryptedPhoneField,
    EncryptedTextField,
)
from logicnet.tenancy.models import TenantModel

# Crockford's base32 without the letters people misread (I, L, O, U).
REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_reference() -> str:
    """A request reference people can read over the phone: PR-XXXX-XXXX (40 random bits)."""
    chars = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"PR-{chars[:4]}-{chars[4:]}"


class PrivacySettings(TenantModel):
    """What the organization's public privacy page says about the controller (Art. 13(1)(a)-(b))
    and the time zone its legal deadlines are counted in."""

    controller_name = models.CharField(_("controller's legal name"), max_length=200, blank=True)
    controller_address = models.TextField(_("controller's address"), blank=True)
    contact_email = models.EmailField(_("privacy contact email"), blank=True)
    dpo_contact = models.CharField(_("data protection officer (name or contact), if any"), max_length=200, blank=True)
    time_zone = models.CharField(_("time zone for deadlines"), max_length=64, default="Europe/Bucharest")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("privacy settings")
        verbose_name_plural = _("privacy settings")
        constraints = [models.UniqueConstraint(fields=["organization"], name="privacysettings_one_per_org")]

    def __str__(self) -> str:
        return self.controller_name or f"privacy settings of organization {self.organization_id}"


class Right(models.TextChoices):
    ACCESS = "access", _("Access: a copy of my data")
    RECTIFICATION = "rectification", _("Rectification: correct my data")
    ERASURE = "erasure", _("Erasure: delete my data")
    RESTRICTION = "restriction", _("Restriction: stop using my data for now")
    PORTABILITY = "portability", _("Portability: my data in a reusable format")
    OBJECTION = "objection", _("Objection: stop processing my data")


class PrivacyRequest(TenantModel):
    """A data-subject request: one or more rights, from one person, with one legal deadline."""

    class Status(models.TextChoices):
        AWAITING_VERIFICATION = "awaiting_verification", _("Awaiting email confirmation")
        RECEIVED = "received", _("Received")
        VERIFIED = "verified", _("Identity confirmed")
        IN_PROGRESS = "in_progress", _("In progress")
        AWAITING_APPROVAL = "awaiting_approval", _("Awaiting approval")
        COMPLETED = "completed", _("Completed")
        DENIED = "denied", _("Denied")
        EXPIRED = "expired", _("Expired (never confirmed)")

    OPEN_STATUSES = (
        Status.AWAITING_VERIFICATION,
        Status.RECEIVED,
        Status.VERIFIED,
        Status.IN_PROGRESS,
        Status.AWAITING_APPROVAL,
    )

    class Channel(models.TextChoices):
        PUBLIC_FORM = "public_form", _("Public privacy page")
        STAFF = "staff", _("Recorded by staff (mail, phone, letter)")
        ACCOUNT = "account", _("Account settings")

    reference = models.CharField(_("reference"), max_length=12, default=new_reference, editable=False)
    rights = ArrayField(models.CharField(max_length=16, choices=Right.choices), verbose_name=_("rights"))
    status = models.CharField(_("status"), max_length=24, choices=Status.choices, default=Status.AWAITING_VERIFICATION)
    channel = models.CharField(_("received through"), max_length=16, choices=Channel.choices)
    language = models.CharField(_("language"), max_length=8, default="en")

    email = EncryptedEmailField(_("email address"), max_length=254)
    email_index = BlindIndexField(source="email", kind="email")
    phone = EncryptedPhoneField(_("phone"), max_length=32, blank=True)
    phone_index = BlindIndexField(source="phone", kind="phone")
    message = EncryptedTextField(_("message"), blank=True)
    correction = EncryptedTextField(_("proposed correction"), blank=True)
    # For an objection: to direct marketing (absolute, applied at once, Art. 21(3)) or to
    # other processing (a staff decision with reasons, Art. 21(1)).
    objects_to_marketing = models.BooleanField(_("objects to direct marketing"), default=False)
    # A report that the organization holds a child's data (GDPR Art. 8, 17(1)(f)): the desk
    # shows it first and highlighted, whatever its deadline.
    priority = models.BooleanField(_("priority"), default=False)

    # Art. 12(3): one month from receipt, counted in the organization's time zone.
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    due_on = models.DateField(_("due"))
    extended_due_on = models.DateField(_("extended to"), null=True, blank=True)
    extension_reason = EncryptedTextField(_("reason for the extension"), blank=True)

    confirmation_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    reminder_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    email_confirmed_at = models.DateTimeField(_("email confirmed"), null=True, blank=True)

    contact = models.ForeignKey(
        "contacts.Contact",
        verbose_name=_("matched contact"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="privacy_requests",
    )
    # Logicnet's own requests (privacy.services.platform): the account holder staff found to
    # be the person, whose data the registry's user subject kind then reads and erases.
    account_holder = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("matched account holder"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    identity_confirmed_at = models.DateTimeField(null=True, blank=True)
    identity_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    duplicate_of = models.ForeignKey(
        "self", verbose_name=_("repeat of"), on_delete=models.SET_NULL, null=True, blank=True, related_name="repeats"
    )
    denial_reason = EncryptedTextField(_("reason for refusing"), blank=True)
    # Art. 12(5): the controller bears the burden of demonstrating it.
    unfounded_justification = EncryptedTextField(_("why it is manifestly unfounded or excessive"), blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("privacy request")
        verbose_name_plural = _("privacy requests")
        constraints = [
            models.UniqueConstraint(fields=["organization", "reference"], name="privacyrequest_unique_reference"),
        ]
        indexes = [
            models.Index(fields=["organization", "status", "due_on"], name="privacyrequest_queue_idx"),
            models.Index(fields=["organization", "email_index"], name="privacyrequest_email_idx"),
            models.Index(fields=["organization", "contact"], name="privacyrequest_contact_idx"),
            # Beat's scan for confirmations to send, remind or expire (across organizations).
            models.Index(
                fields=["received_at"],
                name="privacyrequest_unconfirmed_idx",
                condition=models.Q(status="awaiting_verification"),
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def deadline(self):
        return self.extended_due_on or self.due_on

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    def rights_display(self) -> list[str]:
        labels = dict(Right.choices)
        return [str(labels.get(right, right)).split(":")[0] for right in self.rights]


class RequestEvent(TenantModel):
    """One step of a request's timeline. `note` may hold what staff wrote or the message sent
    to the person (encrypted); `details` holds only ids, names of rights and counts."""

    class Kind(models.TextChoices):
        RECEIVED = "received", _("Request received")
        CONFIRMATION_SENT = "confirmation_sent", _("Confirmation link sent")
        REMINDER_SENT = "reminder_sent", _("Reminder sent")
        EMAIL_CONFIRMED = "email_confirmed", _("Email address confirmed")
        EXPIRED = "expired", _("Expired without confirmation")
        CONTACT_MATCHED = "contact_matched", _("Identity confirmed")
        ASSIGNED = "assigned", _("Assigned")
        NOTE = "note", _("Internal note")
        INFO_REQUESTED = "info_requested", _("More information asked of the person")
        EXTENDED = "extended", _("Deadline extended")
        DENIED = "denied", _("Refused")
        GROUPED = "grouped", _("Grouped with an earlier request")
        APPROVED = "approved", _("Approved")
        JOB_STARTED = "job_started", _("Work started")
        PACKAGE_READY = "package_ready", _("Package ready")
        PACKAGE_DOWNLOADED = "package_downloaded", _("Package downloaded")
        RECTIFIED = "rectified", _("Data corrected")
        RECIPIENTS_NOTIFIED = "recipients_notified", _("Recipients told (Art. 19)")
        RECIPIENTS_SHOWN = "recipients_shown", _("The person was shown the recipients (Art. 19)")
        ERASED = "erased", _("Data erased")
        ERASURE_WITHHELD = "erasure_withheld", _("Erasure withheld: legal hold (Art. 17(3)(e))")
        RESTRICTED = "restricted", _("Processing restricted")
        RESTRICTION_LIFTED = "restriction_lifted", _("Restriction lifted")
        OBJECTION_MARKETING = "objection_marketing", _("Objection to direct marketing applied")
        OBJECTION_DECIDED = "objection_decided", _("Objection decided")
        STATUS_CHANGED = "status_changed", _("Status changed")
        COMPLETED = "completed", _("Completed")
        PERSON_NOTIFIED = "person_notified", _("Person notified")

    request = models.ForeignKey(PrivacyRequest, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    note = EncryptedTextField(blank=True)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["organization", "request", "created_at"], name="requestevent_timeline_idx")]

    def __str__(self) -> str:
        return f"{self.kind} on request {self.request_id}"


class Suppression(TenantModel):
    """A person who was erased, or who objected to direct marketing: the keyed digest of an
    address or number (the organization's blind index), so imports do not bring them back.
    Holds no readable value. One row per reason: an erasure withheld later takes back its own
    rows and leaves an objection's."""

    class Kind(models.TextChoices):
        EMAIL = "email", _("Email address")
        PHONE = "phone", _("Phone number")

    class Reason(models.TextChoices):
        ERASED = "erased", _("Erased at their request (GDPR Art. 17)")
        OBJECTED = "objected", _("Objected to direct marketing (GDPR Art. 21)")

    kind = models.CharField(max_length=8, choices=Kind.choices)
    digest = models.CharField(max_length=64)
    reason = models.CharField(max_length=8, choices=Reason.choices, default=Reason.ERASED)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "kind", "digest", "reason"], name="suppression_unique_digest_reason"
            )
        ]

    def __str__(self) -> str:
        return f"suppressed {self.kind}"


class ErasureRecord(TenantModel):
    """The erasure ledger: which contact row was erased, when, on which request, with what
    counts. No personal data, so it survives the erasure and is replayed after a backup
    restore (`manage.py replay_erasures`)."""

    contact_id_erased = models.BigIntegerField()
    request = models.ForeignKey(PrivacyRequest, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    counts = models.JSONField(default=dict)
    erased_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    erased_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "contact_id_erased"], name="erasurerecord_unique_contact")
        ]

    def __str__(self) -> str:
        return f"erasure of contact {self.contact_id_erased}"
