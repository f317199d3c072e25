"""Service announcements, administrative messages and product news from Logicnet to its
account holders: a banner in the app (until dismissed) and, when staff choose, a mail with
a delivery status per recipient.

Product news (marketing) reaches only account holders who said yes to it
(MarketingConsent, newest row wins) and have not objected to Logicnet's marketing or
restricted its processing (User.may_receive_marketing); every such mail carries a one-click
unsubscribe (RFC 8058)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Announcement(models.Model):
    class Kind(models.TextChoices):
        SERVICE = "service", _("Service announcement")
        ADMINISTRATIVE = "administrative", _("Administrative message")
        MARKETING = "marketing", _("New features (marketing: only to those who agreed)")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.SERVICE)
    title_en = models.CharField(_("title (English)"), max_length=200)
    title_ro = models.CharField(_("title (Romanian)"), max_length=200)
    body_en = models.TextField(_("text (English)"))
    body_ro = models.TextField(_("text (Romanian)"))
    # The audience: every account holder, unless narrowed to named organizations, to their
    # owners, or to the organizations on a plan (a plan's key; billing resolves it).
    organization_ids = models.JSONField(_("organizations"), default=list, blank=True)
    owners_only = models.BooleanField(_("owners only"), default=False)
    plan_key = models.CharField(_("plan"), max_length=40, null=True, blank=True)
    send_email = models.BooleanField(_("also send by email"), default=True)
    show_until = models.DateTimeField(_("show the banner until"), null=True, blank=True)
    created_by_id = models.BigIntegerField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("written"), default=timezone.now, editable=False)
    published_at = models.DateTimeField(_("published"), null=True, blank=True, editable=False)
    mail_started_at = models.DateTimeField(null=True, blank=True, editable=False)
    mail_finished_at = models.DateTimeField(null=True, blank=True, editable=False)
    mail_total = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("announcement")
        verbose_name_plural = _("announcements")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title_en

    def title(self, language: str) -> str:
        return self.title_ro if language == "ro" else self.title_en

    def body(self, language: str) -> str:
        return self.body_ro if language == "ro" else self.body_en


class AnnouncementDelivery(models.Model):
    """The mail of one announcement to one account holder, and how it went."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    announcement = models.ForeignKey(Announcement, on_delete=models.CASCADE, related_name="deliveries")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    error = models.CharField(max_length=64, blank=True)
    attempted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("announcement delivery")
        verbose_name_plural = _("announcement deliveries")
        constraints = [models.UniqueConstraint(fields=["announcement", "user"], name="announcement_delivery_once")]
        indexes = [models.Index(fields=["announcement", "status"], name="announcement_delivery_idx")]

    def __str__(self) -> str:
        return f"{self.announcement_id} to user {self.user_id}: {self.status}"


class AnnouncementDismissal(models.Model):
    """The user closed the banner: it does not show to them again."""

    announcement = models.ForeignKey(Announcement, on_delete=models.CASCADE, related_name="dismissals")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    dismissed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "announcement"], name="announcement_dismissed_once")]

    def __str__(self) -> str:
        return f"{self.announcement_id} dismissed by user {self.user_id}"


class MarketingConsent(models.Model):
    """An account holder's answer to "send me news about Logicnet's new features" (GDPR Art.
    6(1)(a), 7; Law 506/2004 art. 12): one row per answer, the newest is the current one,
    kept as proof (Art. 7(1))."""

    class Method(models.TextChoices):
        SETTINGS = "settings", _("Account settings")
        ONE_CLICK = "one_click", _("One-click unsubscribe in a mail")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    given = models.BooleanField()
    method = models.CharField(max_length=12, choices=Method.choices)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["user", "-recorded_at"], name="marketing_consent_user_idx")]

    def __str__(self) -> str:
        return f"user {self.user_id}: {'yes' if self.given else 'no'} at {self.recorded_at:%Y-%m-%d}"
