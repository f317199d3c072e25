"""An organization's own retention periods and its legal holds.

The rules themselves are the registry's (logicnet/personal_data/policy.py): a platform
default per rule, which an organization may replace for the rules that are its own to set
(the data of its customers, where it is the controller). A legal hold exempts one named
contact or interaction from every sweep until it is released (GDPR Art. 17(3)(e): data
needed for legal claims is kept).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from logicnet.tenancy.models import TenantModel


class RetentionOverride(TenantModel):
    """The organization's period for one overridable registry rule. `period_days` None: kept
    for as long as the organization keeps the data (the rule does not sweep)."""

    rule = models.CharField(_("rule"), max_length=40)
    period_days = models.PositiveIntegerField(_("period in days"), null=True, blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "rule"], name="retentionoverride_unique_rule")]

    def __str__(self) -> str:
        return f"{self.rule}: {self.period_days} days"


class LegalHold(TenantModel):
    """One contact or one interaction kept out of the retention sweeps while the hold is
    active (`released_at` empty). A hold on a contact also keeps every interaction it takes
    part in."""

    contact = models.ForeignKey(
        "contacts.Contact", on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("contact")
    )
    interaction = models.ForeignKey(
        "activity.Interaction",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("interaction"),
    )
    # A case or matter number; the form asks for no personal data here.
    reference = models.CharField(_("case or matter reference"), max_length=100)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    released_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(contact__isnull=False, interaction__isnull=True)
                | Q(contact__isnull=True, interaction__isnull=False),
                name="legalhold_one_target",
            )
        ]
        indexes = [
            models.Index(
                fields=["organization", "contact"], name="legalhold_active_contact_idx", condition=Q(released_at=None)
            ),
            models.Index(
                fields=["organization", "interaction"],
                name="legalhold_active_inter_idx",
                condition=Q(released_at=None),
            ),
        ]

    def __str__(self) -> str:
        return f"legal hold {self.reference}"

    @property
    def is_active(self) -> bool:
        return self.released_at is None
