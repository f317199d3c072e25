"""Support: the inbox where account holders write to Logicnet, and the time-limited access
to its personal data that an organization may grant Logicnet's support staff.

A support request is the account holder's own correspondence with Logicnet (Logicnet is the
controller): its rows belong to the user who opened it (a row policy keyed by the acting
user, settings.TENANCY_USER_OWNED_MODELS), and its texts and screenshot are sealed with the
platform key, bound to the request, so staff read them in the admin process and nobody reads
them in a dump.

A support access grant is the organization's (a tenant row): while one is live, platform
staff may open the organization's contacts from the admin, inside the organization's own
tenant context; each opening is logged here for the organization's admins to read, and in
the audit log.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from logicnet.encryption.fields import PlatformSealedField
from logicnet.tenancy.models import TenantModel


class SupportAccessGrant(TenantModel):
    """The organization lets Logicnet's support staff read its data until `expires_at`,
    unless revoked before."""

    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    granted_at = models.DateTimeField(_("granted"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("support access grant")
        verbose_name_plural = _("support access grants")
        indexes = [models.Index(fields=["organization", "-granted_at"], name="support_grant_org_idx")]

    def __str__(self) -> str:
        return f"support access for organization {self.organization_id} until {self.expires_at:%Y-%m-%d %H:%M}"

    def is_live(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and self.expires_at > now


class SupportAccessLog(TenantModel):
    """One thing platform staff opened under a grant: shown to the organization's admins."""

    class What(models.TextChoices):
        CONTACT_LIST = "contact_list", _("the contacts list")
        CONTACT = "contact", _("a contact")

    grant = models.ForeignKey(SupportAccessGrant, on_delete=models.CASCADE, related_name="openings")
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    what = models.CharField(max_length=16, choices=What.choices)
    target_id = models.BigIntegerField(null=True, blank=True)
    opened_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("support access opening")
        verbose_name_plural = _("support access openings")
        indexes = [models.Index(fields=["organization", "-opened_at"], name="support_log_org_idx")]

    def __str__(self) -> str:
        return f"{self.what} {self.target_id or ''} at {self.opened_at:%Y-%m-%d %H:%M}"


class SupportRequest(models.Model):
    """A request an account holder opened. No organization column (it is the user's own
    correspondence); `about_organization_id` says which of their organizations it concerns."""

    class Status(models.TextChoices):
        OPEN = "open", _("Waiting for Logicnet")
        ANSWERED = "answered", _("Answered")
        CLOSED = "closed", _("Closed")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="support_requests")
    # The organization the request is about, as a plain id: a foreign key to the
    # organization would make this a tenant table (logicnet/tenancy/rls.py), and the
    # request is the user's, not the organization's.
    about_organization_id = models.BigIntegerField(_("organization"), null=True, blank=True)
    subject = PlatformSealedField(bound_to="user")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(_("opened"), default=timezone.now)
    last_activity_at = models.DateTimeField(_("last activity"), default=timezone.now)

    class Meta:
        verbose_name = _("support request")
        verbose_name_plural = _("support requests")
        indexes = [
            models.Index(fields=["user", "-last_activity_at"], name="support_request_user_idx"),
            models.Index(fields=["status", "-last_activity_at"], name="support_request_status_idx"),
        ]

    def __str__(self) -> str:
        return f"support request {self.pk}"


class SupportMessage(models.Model):
    """One message of a request's thread, from its user or from staff. Owned through its
    request (no user column: a staff answer is still the requester's thread); the staff
    member who answered is a plain row reference."""

    request = models.ForeignKey(SupportRequest, on_delete=models.CASCADE, related_name="messages")
    from_staff = models.BooleanField(default=False)
    staff_user_id = models.BigIntegerField(null=True, blank=True)
    body = PlatformSealedField(bound_to="request")
    # The screenshot, sealed with the platform key in SUPPORT_FILES_DIR (never in the database).
    attachment_type = models.CharField(max_length=32, blank=True)
    attachment_size = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["request", "created_at"], name="support_message_thread_idx")]

    def __str__(self) -> str:
        return f"message {self.pk} of request {self.request_id}"
