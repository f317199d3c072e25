"""Pipelines, deals, their history and the money around them.

Money is Decimal everywhere (never float): values in the deal's currency, converted to the
organization's base currency by the rate of a date (CurrencyRate), weighted by the stage's
win probability (deals/money.py). Titles, notes and descriptions are free text staff write
about customers, so they are encrypted like the contacts' notes.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from logicnet.encryption.fields import EncryptedCharField, EncryptedTextField
from logicnet.tenancy.models import TenantModel


class Currency(models.TextChoices):
    RON = "RON", _("Romanian leu (RON)")
    EUR = "EUR", _("Euro (EUR)")
    USD = "USD", _("US dollar (USD)")
    GBP = "GBP", _("Pound sterling (GBP)")
    HUF = "HUF", _("Hungarian forint (HUF)")
    BGN = "BGN", _("Bulgarian lev (BGN)")
    MDL = "MDL", _("Moldovan leu (MDL)")
    CHF = "CHF", _("Swiss franc (CHF)")
    PLN = "PLN", _("Polish zloty (PLN)")


# Deals may be entered in the base currency plus these (the brief of the product: RON, EUR, USD).
DEAL_CURRENCIES = (Currency.RON, Currency.EUR, Currency.USD)

MONEY = {"max_digits": 16, "decimal_places": 2}


class DealSettings(TenantModel):
    """The organization's deal settings: one row, made on first use (deals/services/settings.py)."""

    base_currency = models.CharField(_("base currency"), max_length=3, choices=Currency.choices, default=Currency.RON)
    updated_at = models.DateTimeField(default=timezone.now)
    # When the deal totals (DealTotal) were last rebuilt from the deals by the recount job.
    totals_recounted_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("deal settings")
        constraints = [models.UniqueConstraint(fields=["organization"], name="dealsettings_one_per_org")]

    def __str__(self) -> str:
        return f"deal settings of {self.organization_id}"


class Pipeline(TenantModel):
    name = models.CharField(_("name"), max_length=80)
    is_default = models.BooleanField(_("default pipeline"), default=False)
    position = models.PositiveIntegerField(default=0)
    archived_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("pipeline")
        verbose_name_plural = _("pipelines")
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="pipeline_unique_name"),
            # At most one default per organization, held by the database.
            models.UniqueConstraint(fields=["organization"], condition=Q(is_default=True), name="pipeline_one_default"),
        ]

    def __str__(self) -> str:
        return self.name


class Stage(TenantModel):
    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(_("name"), max_length=80)
    position = models.PositiveIntegerField(default=0)
    # Percent, 0 to 100: the weighted value of a deal is its value times this over 100.
    probability = models.PositiveSmallIntegerField(
        _("win probability (%)"), default=10, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    rotting_days = models.PositiveIntegerField(
        _("rotting after (days)"),
        null=True,
        blank=True,
        help_text=_("A deal with no activity for this many days in the stage is highlighted."),
    )
    archived_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(probability__lte=100), name="stage_probability_percent"),
        ]
        indexes = [models.Index(fields=["organization", "pipeline", "position"], name="stage_pipeline_idx")]

    def __str__(self) -> str:
        return self.name


class LostReason(TenantModel):
    name = models.CharField(_("reason"), max_length=120)
    position = models.PositiveIntegerField(default=0)
    archived_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("lost reason")
        verbose_name_plural = _("lost reasons")
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="lostreason_unique_name")]

    def __str__(self) -> str:
        return self.name


class Product(TenantModel):
    """A line of the organization's small price catalog."""

    name = models.CharField(_("name"), max_length=120)
    code = models.CharField(_("code"), max_length=40, blank=True)
    unit_price = models.DecimalField(_("unit price"), **MONEY)
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices, default=Currency.RON)
    vat_rate = models.DecimalField(_("VAT rate (%)"), max_digits=5, decimal_places=2, default=Decimal("19.00"))
    archived_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="product_unique_name")]

    def __str__(self) -> str:
        return self.name


class CurrencyRate(TenantModel):
    """How many units of the base currency one unit of `currency` was worth on `date`.
    A conversion uses the rate of the latest date on or before the day asked for."""

    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices)
    date = models.DateField(_("date"))
    rate = models.DecimalField(_("rate"), max_digits=18, decimal_places=8, validators=[MinValueValidator(0)])
    source = models.CharField(_("source"), max_length=16, default="manual")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("currency rate")
        verbose_name_plural = _("currency rates")
        constraints = [
            models.UniqueConstraint(fields=["organization", "currency", "date"], name="currencyrate_unique_day"),
            models.CheckConstraint(condition=Q(rate__gt=0), name="currencyrate_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.currency} {self.date}: {self.rate}"


class Deal(TenantModel):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        WON = "won", _("Won")
        LOST = "lost", _("Lost")

    title = EncryptedCharField(_("title"), max_length=200)
    value = models.DecimalField(_("value"), default=Decimal("0"), **MONEY)
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices, default=Currency.RON)
    expected_close = models.DateField(_("expected close date"), null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    pipeline = models.ForeignKey(Pipeline, on_delete=models.PROTECT, related_name="deals")
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="deals")
    company = models.ForeignKey(
        "contacts.Company",
        verbose_name=_("company"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="deals",
    )
    contacts = models.ManyToManyField("contacts.Contact", through="DealContact", related_name="deals", blank=True)
    tags = models.ManyToManyField("contacts.Tag", through="DealTag", related_name="deals", blank=True)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.OPEN)
    lost_reason = models.ForeignKey(
        LostReason, verbose_name=_("lost reason"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)
    notes = EncryptedTextField(_("notes"), blank=True)
    # Order inside the stage's column: gaps of POSITION_STEP so a move between two cards
    # usually writes one row (deals/services/deals.py renumbers a column when a gap closes).
    position = models.BigIntegerField(default=0, editable=False)
    stage_entered_at = models.DateTimeField(default=timezone.now, editable=False)
    # The last change, move or logged activity: what "rotting" is measured from. The
    # activity app (interactions and tasks linked to a deal) calls touch_deal() to move it.
    last_activity_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    # Optimistic concurrency: every write carries the version it read; an older one is refused.
    version = models.PositiveIntegerField(default=1, editable=False)

    POSITION_STEP = 1024

    class Meta:
        verbose_name = _("deal")
        verbose_name_plural = _("deals")
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="lost") | Q(lost_reason__isnull=False), name="deal_lost_has_reason"
            ),
            models.CheckConstraint(condition=Q(value__gte=0), name="deal_value_not_negative"),
        ]
        indexes = [
            # A board column: one stage's open deals in position order, keyset on (position, id).
            models.Index(
                fields=["organization", "stage", "position", "id"],
                name="deal_column_idx",
                condition=Q(status="open"),
            ),
            models.Index(fields=["organization", "created_at", "id"], name="deal_org_created_idx"),
            # The deal list's status tabs (open, won, lost), newest first: its count and pages
            # read one status's range instead of filtering the organization's deals.
            models.Index(fields=["organization", "status", "created_at", "id"], name="deal_org_status_idx"),
            models.Index(fields=["organization", "owner", "created_at", "id"], name="deal_org_owner_idx"),
            models.Index(fields=["organization", "company"], name="deal_company_idx"),
        ]

    def __str__(self) -> str:
        return self.title


class DealContact(TenantModel):
    deal = models.ForeignKey(Deal, on_delete=models.CASCADE)
    contact = models.ForeignKey("contacts.Contact", on_delete=models.CASCADE)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "deal", "contact"], name="dealcontact_unique")]
        indexes = [models.Index(fields=["organization", "contact", "deal"], name="dealcontact_contact_idx")]

    def __str__(self) -> str:
        return f"contact {self.contact_id} on deal {self.deal_id}"


class DealTag(TenantModel):
    deal = models.ForeignKey(Deal, on_delete=models.CASCADE)
    tag = models.ForeignKey("contacts.Tag", on_delete=models.CASCADE)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "deal", "tag"], name="dealtag_unique")]
        indexes = [models.Index(fields=["organization", "tag", "deal"], name="dealtag_tag_idx")]

    def __str__(self) -> str:
        return f"tag {self.tag_id} on deal {self.deal_id}"


class DealLineItem(TenantModel):
    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="line_items")
    product = models.ForeignKey(Product, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    description = EncryptedCharField(_("description"), max_length=200)
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=3, default=Decimal("1"))
    unit_price = models.DecimalField(_("unit price"), **MONEY)
    discount = models.DecimalField(
        _("discount (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    vat_rate = models.DecimalField(_("VAT rate (%)"), max_digits=5, decimal_places=2, default=Decimal("19.00"))
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["organization", "deal"], name="deallineitem_deal_idx")]

    def __str__(self) -> str:
        return f"line {self.pk} of deal {self.deal_id}"


class DealEvent(TenantModel):
    """The deal's history: every change of stage, status or value, with when and who.
    Time in a stage is read from consecutive stage events."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Created")
        STAGE = "stage", _("Stage changed")
        STATUS = "status", _("Status changed")
        VALUE = "value", _("Value changed")

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    from_stage = models.ForeignKey(Stage, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    to_stage = models.ForeignKey(Stage, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # Status names, or values as "<amount> <currency>": plain, never personal text.
    from_value = models.CharField(max_length=40, blank=True)
    to_value = models.CharField(max_length=40, blank=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "deal", "at", "id"], name="dealevent_deal_idx")]

    def __str__(self) -> str:
        return f"{self.kind} on deal {self.deal_id}"


class Transaction(TenantModel):
    """An order, payment, invoice or refund of a contact or company, entered by hand."""

    class Kind(models.TextChoices):
        ORDER = "order", _("Order")
        PAYMENT = "payment", _("Payment")
        INVOICE = "invoice", _("Invoice")
        REFUND = "refund", _("Refund")

    kind = models.CharField(_("type"), max_length=8, choices=Kind.choices)
    date = models.DateField(_("date"), default=timezone.localdate)
    amount = models.DecimalField(_("amount"), **MONEY)
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices, default=Currency.RON)
    reference = models.CharField(_("reference"), max_length=60, blank=True)
    description = EncryptedTextField(_("description"), blank=True)
    contact = models.ForeignKey(
        "contacts.Contact", on_delete=models.SET_NULL, null=True, blank=True, related_name="transactions"
    )
    company = models.ForeignKey(
        "contacts.Company", on_delete=models.SET_NULL, null=True, blank=True, related_name="transactions"
    )
    deal = models.ForeignKey(Deal, on_delete=models.SET_NULL, null=True, blank=True, related_name="transactions")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("transaction")
        verbose_name_plural = _("transactions")
        constraints = [models.CheckConstraint(condition=Q(amount__gte=0), name="transaction_amount_not_negative")]
        indexes = [
            models.Index(fields=["organization", "contact", "date"], name="transaction_contact_idx"),
            models.Index(fields=["organization", "company", "date"], name="transaction_company_idx"),
            models.Index(fields=["organization", "deal"], name="transaction_deal_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class DealTotal(TenantModel):
    """The organization's deals summed per (pipeline, stage, owner, status, month, currency):
    what the dashboard charts and the board's unfiltered column totals read instead of
    scanning a million deals.

    Kept by statement-level triggers on the deals table (migration 0002), in the same
    transaction as the change, so the numbers are never behind whichever path wrote the
    deals (services, the bulk COPY path, an erasure). `month` is the first day of the local
    month (settings.TIME_ZONE) of `closed_at` for won and lost deals, of `expected_close`
    for open ones (null without a date). Ids are plain columns, not foreign keys: the row is
    derived from deals that already hold those references, and a row emptied to zero must
    not block deleting a stage or a user. The nightly recount (deals.totals) rebuilds the
    rows from the deals and says when it last did.
    """

    pipeline_id = models.BigIntegerField()
    stage_id = models.BigIntegerField()
    owner_id = models.BigIntegerField(null=True)
    status = models.CharField(max_length=8)
    month = models.DateField(null=True)
    currency = models.CharField(max_length=3)
    deal_count = models.BigIntegerField(default=0)
    value_sum = models.DecimalField(default=Decimal("0"), max_digits=20, decimal_places=2)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "pipeline_id", "status", "stage_id", "owner_id", "month", "currency"],
                name="dealtotal_unique_group",
                nulls_distinct=False,
            )
        ]

    def __str__(self) -> str:
        return f"{self.deal_count} {self.status} deals in stage {self.stage_id}"
