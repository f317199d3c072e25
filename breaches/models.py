"""The breach register (GDPR Art. 33, 34).

`BreachIncident` is the platform's record of one incident, kept by Logicnet staff in the
admin process: Logicnet is the processor of the organizations' contact data (it notifies
each affected organization, its controller, Art. 33(2)) and the controller of account data.
The incident's table is the platform role's alone (breaches/security.py).

`BreachNotice` is what one affected organization sees: a tenant row (row-level security,
scoped manager) holding the facts Logicnet published to it, its own subjects' counts (the
scope computed inside its tenant context) and the state of its mail. `BreachRecipient` is
one person's delivery status (ids and status only, never an address).
"""

from __future__ import annotations

from datetime import timedelta

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from logicnet.tenancy.models import TenantModel

# GDPR Art. 33(1): "not later than 72 hours after having become aware of it".
NOTIFICATION_WINDOW = timedelta(hours=72)


class RiskLevel(models.TextChoices):
    # Art. 33(1): no notification to the authority when "unlikely to result in a risk";
    # Art. 34(1): the people are told when the risk is high.
    UNLIKELY = "unlikely", _("Unlikely to result in a risk")
    RISK = "risk", _("Risk to people's rights and freedoms")
    HIGH = "high", _("High risk to people's rights and freedoms")


class IncidentFacts(models.Model):
    """What the register records about an incident (Art. 33(3), 33(5)): the incident's own
    fields, and the copy published to each affected organization."""

    reference = models.CharField(_("reference"), max_length=32)
    title = models.CharField(_("title"), max_length=200)
    aware_at = models.DateTimeField(_("became aware at"), help_text=_("Starts the 72-hour clock of GDPR Art. 33(1)."))
    occurred_at = models.DateTimeField(_("occurred at"), null=True, blank=True)
    confidentiality = models.BooleanField(_("confidentiality breach"), default=False)
    integrity = models.BooleanField(_("integrity breach"), default=False)
    availability = models.BooleanField(_("availability breach"), default=False)
    # Personal-data categories of the registry (logicnet.personal_data.registry.Category).
    data_categories = models.JSONField(_("categories of personal data"), default=list, blank=True)
    subjects_approx = models.PositiveIntegerField(_("approximate number of people"), null=True, blank=True)
    records_approx = models.PositiveIntegerField(_("approximate number of records"), null=True, blank=True)
    consequences = models.TextField(_("likely consequences"), blank=True)
    measures_taken = models.TextField(_("measures taken"), blank=True)
    measures_proposed = models.TextField(_("measures proposed"), blank=True)
    contact_point = models.TextField(_("contact point"), blank=True)
    risk_level = models.CharField(_("risk level"), max_length=16, choices=RiskLevel.choices, default=RiskLevel.RISK)
    risk_rationale = models.TextField(_("risk rationale"), blank=True)
    authority_notified_at = models.DateTimeField(_("authority notified at"), null=True, blank=True)
    authority_reference = models.CharField(_("authority's reference"), max_length=100, blank=True)
    late_reasons = models.TextField(
        _("reasons for the delay"), blank=True, help_text=_("Required when notified after 72 hours (GDPR Art. 33(1)).")
    )
    subjects_notified_at = models.DateTimeField(_("people notified at"), null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def deadline(self):
        return self.aware_at + NOTIFICATION_WINDOW

    @property
    def natures(self) -> list[str]:
        names = [
            (self.confidentiality, _("confidentiality")),
            (self.integrity, _("integrity")),
            (self.availability, _("availability")),
        ]
        return [str(name) for flag, name in names if flag]

    @property
    def category_names(self) -> list[str]:
        from logicnet.personal_data.registry import Category

        return [str(Category(value).label) if value in Category.values else value for value in self.data_categories]


FACT_FIELDS = [f.name for f in IncidentFacts._meta.local_fields]


class BreachIncident(IncidentFacts):
    """One incident in the platform's register; its scope (organizations, categories,
    period) decides which organizations and people it touches."""

    all_organizations = models.BooleanField(
        _("every organization"), default=False, help_text=_("The incident touches every active organization.")
    )
    # The organizations named in the scope, by id. Not a many-to-many: its table would hold an
    # organization column, and so be a tenant table under row-level security, written by
    # the platform about its own incident. The rows that link an incident to an affected
    # organization are its notices (BreachNotice), created from this list.
    organization_ids = models.JSONField(_("organizations"), default=list, blank=True)
    period_start = models.DateTimeField(_("period from"), null=True, blank=True)
    period_end = models.DateTimeField(_("period until"), null=True, blank=True)
    # Ids, not foreign keys: the application role, which may delete a user, has no
    # privilege on this table (breaches/security.py), so no cascade may reach it.
    created_by_id = models.BigIntegerField(null=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["reference"], name="breach_incident_reference")]
        ordering = ["-aware_at"]
        verbose_name = _("breach incident")
        verbose_name_plural = _("breach register")

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"


class BreachUpdate(models.Model):
    """A phased update (Art. 33(4): information given in phases as it becomes available)."""

    incident = models.ForeignKey(BreachIncident, on_delete=models.CASCADE, related_name="updates")
    text = models.TextField(_("update"))
    created_by_id = models.BigIntegerField(null=True, editable=False)
    created_at = models.DateTimeField(_("at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("phased update")
        verbose_name_plural = _("phased updates")

    def __str__(self) -> str:
        return f"{self.incident_id} @ {self.created_at:%Y-%m-%d %H:%M}"


class BreachNotice(TenantModel, IncidentFacts):
    """One affected organization's view of an incident: the facts Logicnet published to it
    (copied, so the organization never reads the platform's table), the phased updates,
    its own counts and the state of the mail to its team and to its people."""

    # No database constraint: the application role, which owns this row's life (an
    # organization that leaves takes its notices with it), has no privilege on the
    # incident's table. Incidents are never deleted (the register is Art. 33(5)'s record).
    incident = models.ForeignKey(
        BreachIncident, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+", editable=False
    )
    # The published phased updates: [{"at": ISO time, "text": ...}, ...].
    updates = models.JSONField(default=list)
    published_at = models.DateTimeField(null=True)
    scope_computed_at = models.DateTimeField(null=True)
    contacts_in_scope = models.PositiveIntegerField(null=True)
    users_in_scope = models.PositiveIntegerField(null=True)
    records_in_scope = models.PositiveIntegerField(null=True)
    # Art. 33(2): the controller's own 72 hours start when its processor tells it.
    organization_notified_at = models.DateTimeField(null=True)
    subjects_notice_requested_at = models.DateTimeField(null=True)
    subjects_notice_finished_at = models.DateTimeField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "incident"], name="breach_notice_unique"),
        ]
        indexes = [models.Index(fields=["organization", "-aware_at"], name="breach_notice_org_idx")]

    def __str__(self) -> str:
        return f"{self.reference} for organization {self.organization_id}"

    @property
    def organization_deadline(self):
        return self.organization_notified_at + NOTIFICATION_WINDOW if self.organization_notified_at else None


class BreachRecipient(TenantModel):
    """One person told about an incident, and what became of the mail. Ids and status
    only: the address is decrypted per batch, inside the tenant context, and not kept."""

    class Kind(models.TextChoices):
        MEMBER = "member", _("Team member (Art. 33(2))")
        CONTACT = "contact", _("Person affected (Art. 34)")
        # Account data is Logicnet's own (it is the controller): it tells its users itself.
        USER = "user", _("Account holder affected (Art. 34)")
        # The organization's privacy contact address (its privacy settings), told beside its
        # team; subject_id is the privacy settings row. Skipped when a team member has it.
        PRIVACY_CONTACT = "privacy", _("Privacy contact address (Art. 33(2))")
        # Art. 34 is the controller's duty: its team and privacy contact get a copy of what
        # Logicnet tells its people on its behalf.
        MEMBER_34 = "member_34", _("Team member, copy of the notice to the people (Art. 34)")
        PRIVACY_CONTACT_34 = "privacy_34", _("Privacy contact address, copy of the notice to the people (Art. 34)")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        BOUNCED = "bounced", _("Bounced")

    notice = models.ForeignKey(BreachNotice, on_delete=models.CASCADE, related_name="recipients")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    subject_id = models.BigIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    # The SMTP reply code of the last failure, never the server's text (it quotes the address).
    error_code = models.CharField(max_length=8, blank=True)
    last_attempt_at = models.DateTimeField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "notice", "kind", "subject_id"], name="breach_recipient_unique"
            ),
        ]
        indexes = [models.Index(fields=["organization", "notice", "status"], name="breach_recipient_status_idx")]
