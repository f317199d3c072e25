"""Interactions (notes, calls, meetings, logged emails) and tasks: the organization's
activity with its contacts, companies and deals.

These models lived in the contacts app until the activity grew past contacts; their tables
were renamed in place (activity migration 0001) and their encrypted values stay bound to
the labels they were sealed under (`sealed_under`, see logicnet.encryption.fields), so every
row written before the move still opens."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from contacts.models import Company, Contact
from logicnet.encryption.fields import EncryptedCharField, EncryptedTextField, sealed_under
from logicnet.tenancy.models import TenantModel


@sealed_under("contacts.Interaction")
class Interaction(TenantModel):
    """A note, call, meeting or logged email with one or more contacts."""

    class Kind(models.TextChoices):
        NOTE = "note", _("Note")
        CALL = "call", _("Call")
        MEETING = "meeting", _("Meeting")
        EMAIL = "email", _("Email")

    kind = models.CharField(_("type"), max_length=8, choices=Kind.choices, default=Kind.NOTE)
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    subject = EncryptedCharField(_("subject"), max_length=200, blank=True)
    body = EncryptedTextField(_("details"), blank=True)
    company = models.ForeignKey(Company, on_delete=models.SET_NULL, null=True, blank=True, related_name="interactions")
    # The deal the interaction was logged on. Its participants include the deal's contacts,
    # so it also shows on their timelines; deleting the deal leaves the call on them.
    deal = models.ForeignKey(
        "deals.Deal", on_delete=models.SET_NULL, null=True, blank=True, related_name="interactions"
    )
    participants = models.ManyToManyField(Contact, through="InteractionParticipant", related_name="interactions")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["organization", "company", "occurred_at"], name="interaction_company_idx"),
            # A deal's timeline; most interactions have no deal, so they stay out of it.
            models.Index(
                fields=["organization", "deal", "occurred_at"],
                name="interaction_deal_idx",
                condition=Q(deal__isnull=False),
            ),
            # The retention sweep claims what is older than the organization's period.
            models.Index(fields=["organization", "occurred_at"], name="interaction_occurred_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class InteractionParticipant(TenantModel):
    interaction = models.ForeignKey(Interaction, on_delete=models.CASCADE)
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE)
    # Copied from the interaction so a contact's timeline is one index range scan.
    occurred_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "interaction", "contact"], name="participant_unique")
        ]
        indexes = [models.Index(fields=["organization", "contact", "occurred_at"], name="participant_timeline_idx")]

    def __str__(self) -> str:
        return f"contact {self.contact_id} in interaction {self.interaction_id}"


@sealed_under("contacts.Task")
class Task(TenantModel):
    title = EncryptedCharField(_("title"), max_length=200)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, null=True, blank=True, related_name="tasks")
    company = models.ForeignKey(Company, on_delete=models.CASCADE, null=True, blank=True, related_name="tasks")
    deal = models.ForeignKey("deals.Deal", on_delete=models.CASCADE, null=True, blank=True, related_name="tasks")
    done_at = models.DateTimeField(null=True, blank=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["organization", "assignee", "done_at", "due_at"], name="task_assignee_idx"),
            models.Index(fields=["organization", "contact", "due_at"], name="task_contact_idx"),
            models.Index(
                fields=["organization", "deal", "due_at"], name="task_deal_idx", condition=Q(deal__isnull=False)
            ),
            # The reminder sweep's scan across organizations: only open, unreminded tasks.
            models.Index(
                fields=["due_at"],
                name="task_reminder_due_idx",
                condition=Q(done_at__isnull=True, reminder_sent_at__isnull=True, due_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"task #{self.pk}"
