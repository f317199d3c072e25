"""Logicnet's own cookies and usage data (Logicnet is the controller).

- `CookieChoice`: every answer a visitor gave the cookie banner, as proof of consent
  (GDPR Art. 7(1)): which notice version, which categories, when, from where.
- `UsageEvent`: a feature a signed-in member used in an organization, written only while
  the visitor's cookie choice allows analytics. Features are names ("contacts.list"),
  never URLs or ids: nothing here says which customer of the organization was looked at.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from logicnet.tenancy.models import TenantModel


class CookieChoice(models.Model):
    """One answer to the cookie banner. Append-only by habit: a change of mind is a new row,
    so the history of consent and its withdrawal stays provable."""

    # The random id of the browser's choice cookie: links the answers of one browser,
    # signed in or not, without naming anyone.
    visitor_id = models.CharField(_("visitor id"), max_length=32)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    notice_version = models.CharField(_("cookie notice version"), max_length=20)
    analytics = models.BooleanField(_("analytics allowed"))
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("cookie choice")
        verbose_name_plural = _("cookie choices")
        indexes = [
            models.Index(fields=["user", "-recorded_at"], name="cookiechoice_user_recent"),
            models.Index(fields=["visitor_id", "-recorded_at"], name="cookiechoice_visitor_recent"),
            models.Index(fields=["recorded_at"], name="cookiechoice_recorded_at"),
        ]

    def __str__(self) -> str:
        return f"{self.visitor_id} {'analytics' if self.analytics else 'necessary only'} ({self.notice_version})"


class UsageEvent(TenantModel):
    """A feature a member used, at a time: the whole of the usage data."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    feature = models.CharField(_("feature"), max_length=64)
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("usage event")
        verbose_name_plural = _("usage events")
        indexes = [
            models.Index(fields=["organization", "user", "-occurred_at"], name="usageevent_org_user_recent"),
            models.Index(fields=["organization", "feature"], name="usageevent_org_feature"),
            # The retention sweep crosses organizations by date alone.
            models.Index(fields=["occurred_at"], name="usageevent_occurred_at"),
        ]

    def __str__(self) -> str:
        return f"{self.feature} at {self.occurred_at:%Y-%m-%d %H:%M}"
