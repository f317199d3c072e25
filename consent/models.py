"""Consent (GDPR Art. 7): an organization's purposes, the versioned notice text people agree
to, and the append-only ledger of every consent given or withdrawn.

- `Purpose`: what consent is asked for (a newsletter, event invitations). Its name and
  whether it is offered may change; what people agreed to may not, so the text lives in
- `NoticeVersion`: the notice text of one version, with the SHA-256 of that text stored
  beside it. Published versions are never changed (the database refuses it).
- `ConsentRecord`: the ledger. One row per consent given or withdrawn: who (a contact),
  for what (purpose and notice version), how (method), when. The application role may only
  append (the database refuses UPDATE and DELETE, see migrations 0002); the current status
  is derived from the newest row per contact and purpose.
- `ConsentEvidence`: the identifying details of one ledger row (the IP address and user
  agent when consent was collected online, what the form or staff member recorded). Kept
  apart so that erasing the person (Art. 17) deletes them while the ledger row stays as
  proof that consent was given or withdrawn (Art. 7(1)); the database refuses to change
  them, it only lets them be deleted.
- `PendingSignup`: a sign-up from the public form awaiting its confirmation mail (double
  opt-in); deleted when confirmed or when it expires.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from logicnet.encryption.fields import BlindIndexField, EncryptedCharField, EncryptedEmailField, EncryptedTextField
from logicnet.tenancy.models import TenantModel


def notice_digest(text: str) -> str:
    """SHA-256 of the notice text as stored (UTF-8), in hex."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Purpose(TenantModel):
    key = models.SlugField(_("key"), max_length=50, help_text=_("Used in the sign-up form's address."))
    name = models.CharField(_("name"), max_length=120)
    is_active = models.BooleanField(_("offered"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("consent purpose")
        verbose_name_plural = _("consent purposes")
        constraints = [models.UniqueConstraint(fields=["organization", "key"], name="consent_purpose_unique_key")]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class NoticeVersion(TenantModel):
    """One published version of a purpose's notice (append-only: a new text is a new version)."""

    purpose = models.ForeignKey(Purpose, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField(_("version"))
    text = models.TextField(_("notice text"))
    text_sha256 = models.CharField(_("SHA-256 of the text"), max_length=64)
    published_at = models.DateTimeField(_("published"), default=timezone.now)
    # No database constraint: the row is never updated, so deleting the user must not try
    # to set this to NULL (the database would refuse); the id stays as history.
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("notice version")
        verbose_name_plural = _("notice versions")
        constraints = [
            models.UniqueConstraint(fields=["organization", "purpose", "version"], name="consent_notice_unique_version")
        ]
        ordering = ["purpose", "-version"]

    def __str__(self) -> str:
        return f"{self.purpose_id} v{self.version}"

    @property
    def text_intact(self) -> bool:
        return notice_digest(self.text) == self.text_sha256


class ConsentRecord(TenantModel):
    """One entry of the consent ledger (append-only)."""

    class Action(models.TextChoices):
        GIVEN = "given", _("Given")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    class Method(models.TextChoices):
        FORM = "form", _("Sign-up form (double opt-in)")
        IMPORT = "import", _("Import")
        API = "api", _("API")
        STAFF = "staff", _("Recorded by staff")
        PREFERENCE_CENTRE = "preference_centre", _("Preference centre")
        MAIL_LINK = "mail_link", _("One-click link in a mail")

    # No database constraint and no cascade: ledger rows are never deleted or changed, so a
    # contact's deletion (or erasure) leaves the ids behind instead of touching the rows.
    contact = models.ForeignKey(
        "contacts.Contact",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="consent_records",
    )
    purpose = models.ForeignKey(Purpose, on_delete=models.PROTECT, related_name="records")
    notice = models.ForeignKey(NoticeVersion, on_delete=models.PROTECT, related_name="records")
    action = models.CharField(_("consent"), max_length=12, choices=Action.choices)
    method = models.CharField(_("how"), max_length=20, choices=Method.choices)
    recorded_at = models.DateTimeField(_("when"), default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    # Set on the copy appended for the surviving contact when two contacts were merged: the
    # ledger row it repeats (that row keeps naming the merged-away contact, unchanged).
    carried_from = models.BigIntegerField(_("carried over at a merge from record"), null=True, blank=True)

    class Meta:
        verbose_name = _("consent record")
        verbose_name_plural = _("consent records")
        indexes = [
            models.Index(
                fields=["organization", "contact", "purpose", "recorded_at"], name="consent_record_status_idx"
            ),
            models.Index(fields=["organization", "recorded_at"], name="consent_record_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.purpose_id} by contact {self.contact_id}"


class ConsentEvidence(TenantModel):
    """What identifies the person in one ledger row; deleted on erasure, never changed."""

    record = models.OneToOneField(ConsentRecord, on_delete=models.CASCADE, related_name="evidence")
    ip_address = EncryptedCharField(_("IP address"), max_length=45, blank=True)
    user_agent = EncryptedTextField(_("user agent"), blank=True)
    details = EncryptedTextField(_("evidence"), blank=True)

    class Meta:
        verbose_name = _("consent evidence")
        verbose_name_plural = _("consent evidence")

    def __str__(self) -> str:
        return f"evidence of consent record {self.record_id}"


class PendingSignup(TenantModel):
    """A sign-up from the public form, waiting for the person to confirm from the mail."""

    purpose = models.ForeignKey(Purpose, on_delete=models.CASCADE, related_name="+")
    notice = models.ForeignKey(NoticeVersion, on_delete=models.CASCADE, related_name="+")
    email = EncryptedEmailField(_("email address"), max_length=254)
    email_index = BlindIndexField(source="email", kind="email")
    first_name = EncryptedCharField(_("first name"), max_length=100, blank=True)
    ip_address = EncryptedCharField(_("IP address"), max_length=45, blank=True)
    user_agent = EncryptedTextField(_("user agent"), blank=True)
    page = EncryptedTextField(_("page the form was sent from"), blank=True)
    language = models.CharField(max_length=8, default="en")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["organization", "email_index"], name="consent_signup_email_idx"),
            models.Index(fields=["created_at"], name="consent_signup_created_idx"),
        ]

    def __str__(self) -> str:
        return f"sign-up {self.pk} for purpose {self.purpose_id}"
