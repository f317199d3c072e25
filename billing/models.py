"""Plans, each organization's subscription and billing details, Stripe's events and the
invoices they announced.

Plans are platform data (no organization): a data migration creates Free, Pro and Business.
What an organization may do follows from its subscription (billing/limits.py); what Stripe
holds (cards, the customer's name and address as Stripe keeps them) stays at Stripe, a store
outside the database declared in the personal-data registry.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from logicnet.encryption.fields import EncryptedCharField, EncryptedEmailField
from logicnet.tenancy.models import TenantModel


class Interval(models.TextChoices):
    MONTHLY = "monthly", _("monthly")
    YEARLY = "yearly", _("yearly")


class Currency(models.TextChoices):
    EUR = "eur", "EUR"
    RON = "ron", "RON"


class Plan(models.Model):
    """A plan as data. `None` limits mean unlimited; prices are in minor units (cents, bani)."""

    key = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=64)
    rank = models.PositiveSmallIntegerField(default=0, help_text="Higher is more: upgrades go up the ranks.")
    seats = models.PositiveIntegerField(null=True, blank=True)
    contacts = models.PositiveIntegerField(null=True, blank=True)
    # Feature keys the plan includes ("marketing", "api"): billing.limits.FEATURES.
    features = models.JSONField(default=list, blank=True)
    monthly_eur = models.PositiveIntegerField(default=0)
    yearly_eur = models.PositiveIntegerField(default=0)
    monthly_ron = models.PositiveIntegerField(default=0)
    yearly_ron = models.PositiveIntegerField(default=0)
    is_default = models.BooleanField(default=False, help_text="The plan of an organization without a subscription.")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["rank"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=models.Q(is_default=True), name="plan_one_default"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def price(self, interval: str, currency: str) -> int:
        return getattr(self, f"{interval}_{currency}")

    def includes(self, feature: str) -> bool:
        return feature in (self.features or [])


class Subscription(TenantModel):
    """The organization's subscription, as Stripe last said it was.

    State machine (services.apply_subscription_state): none → trialing / active; active ⇄
    past_due; any → canceled. Past due for longer than BILLING_GRACE_DAYS makes the
    organization read-only (billing/limits.py), never deleting anything; canceled falls back
    to the default plan once the grace period ends. `state_at` is the creation time of the
    Stripe event that set the state: an older event arriving later changes nothing."""

    class Status(models.TextChoices):
        NONE = "none", _("no subscription")
        TRIALING = "trialing", _("trial")
        ACTIVE = "active", _("active")
        PAST_DUE = "past_due", _("payment overdue")
        CANCELED = "canceled", _("canceled")

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NONE)
    interval = models.CharField(max_length=8, choices=Interval.choices, default=Interval.MONTHLY)
    currency = models.CharField(max_length=3, choices=Currency.choices, default=Currency.EUR)
    stripe_customer_id = models.CharField(max_length=255, blank=True)
    stripe_subscription_id = models.CharField(max_length=255, blank=True)
    current_period_end = models.DateTimeField(null=True, blank=True)
    trial_end = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    past_due_since = models.DateTimeField(null=True, blank=True)
    canceled_at = models.DateTimeField(null=True, blank=True)
    state_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization"], name="subscription_one_per_organization"),
        ]
        indexes = [
            models.Index(fields=["organization", "stripe_customer_id"], name="subscription_customer_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.plan} ({self.status})"


class BillingDetails(TenantModel):
    """The organization's billing address and Romanian VAT identifier (CUI), for invoices.
    Encrypted with the organization's key: a sole trader's name and address are a person's."""

    legal_name = EncryptedCharField(_("legal name"), max_length=200, blank=True)
    vat_id = EncryptedCharField(
        _("VAT identifier (CUI)"), max_length=16, blank=True, help_text=_("For example RO18547290 or 18547290.")
    )
    registration_number = EncryptedCharField(_("trade register number"), max_length=32, blank=True)
    address = EncryptedCharField(_("address"), max_length=255, blank=True)
    city = EncryptedCharField(_("city"), max_length=100, blank=True)
    county = EncryptedCharField(_("county"), max_length=100, blank=True)
    postal_code = EncryptedCharField(_("postal code"), max_length=16, blank=True)
    country = models.CharField(_("country"), max_length=2, default="RO")
    email = EncryptedEmailField(_("billing email"), max_length=254, blank=True)
    updated_by = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization"], name="billingdetails_one_per_organization"),
        ]

    def __str__(self) -> str:
        return f"billing details of organization {self.organization_id}"


class StripeEvent(models.Model):
    """A verified Stripe webhook event, stored before anything acts on it.

    The unique Stripe id makes delivery idempotent: a replay finds its row and is not
    processed again. No organization: an event is stored before anyone knows whose it is
    (the job finds the organization), so the table is outside row-level security; it holds
    no personal value (services.minimize_payload removes the customer's name, email, phone
    and addresses before storage; Stripe keeps them, a declared store)."""

    class State(models.TextChoices):
        RECEIVED = "received", _("received")
        PROCESSING = "processing", _("processing")
        PROCESSED = "processed", _("processed")
        IGNORED = "ignored", _("ignored")
        FAILED = "failed", _("failed")

    stripe_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    created = models.DateTimeField(help_text="When Stripe created the event (orders the subscription's states).")
    livemode = models.BooleanField(default=False)
    # The Stripe customer the event is about: events that arrive before the customer is
    # linked to an organization are processed again when it is (services.link_customer).
    customer = models.CharField(max_length=255, blank=True)
    payload = models.JSONField()
    state = models.CharField(max_length=12, choices=State.choices, default=State.RECEIVED)
    attempts = models.PositiveSmallIntegerField(default=0)
    for_organization = models.BigIntegerField(
        null=True, blank=True, help_text="The organization id, once the job has found it."
    )
    received_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["state", "received_at"], name="stripeevent_pending_idx"),
            models.Index(fields=["customer", "state"], name="stripeevent_customer_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.stripe_id}"


class Invoice(TenantModel):
    """An invoice Stripe announced (invoice.* events), newest state by event time."""

    stripe_id = models.CharField(max_length=255)
    number = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=32, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    amount_due = models.BigIntegerField(default=0)
    amount_paid = models.BigIntegerField(default=0)
    hosted_invoice_url = models.URLField(max_length=500, blank=True)
    invoice_pdf = models.URLField(max_length=500, blank=True)
    issued_at = models.DateTimeField(null=True, blank=True)
    period_start = models.DateTimeField(null=True, blank=True)
    period_end = models.DateTimeField(null=True, blank=True)
    state_at = models.DateTimeField(help_text="Creation time of the event that set this state.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "stripe_id"], name="invoice_unique_stripe_id")]
        indexes = [models.Index(fields=["organization", "issued_at"], name="invoice_org_issued_idx")]

    def __str__(self) -> str:
        return self.number or self.stripe_id

    @property
    def amount(self) -> str:
        """The amount due in major units (Stripe counts cents and bani)."""
        return f"{self.amount_due / 100:.2f}"
