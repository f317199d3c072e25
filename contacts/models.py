from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from logicnet.encryption.fields import (
    BlindIndexField,
    EncryptedCharField,
    EncryptedDateField,
    EncryptedEmailField,
    EncryptedJSONField,
    EncryptedPhoneField,
    EncryptedTextField,
    PrefixTokensField,
)
from logicnet.tenancy.models import TenantModel, organization_field


class Label(models.TextChoices):
    WORK = "work", _("Work")
    HOME = "home", _("Home")
    MOBILE = "mobile", _("Mobile")
    OTHER = "other", _("Other")


class Tag(TenantModel):
    """A label staff put on contacts and companies. Tag names are not personal data."""

    # Led by the organization, its other indexes serve lookups by it (organization_field).
    organization = organization_field(db_index=False)

    name = models.CharField(_("name"), max_length=60)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="tag_unique_name")]

    def __str__(self) -> str:
        return self.name


class TrackedModel(TenantModel):
    """Who created and last changed a row, and a version number for optimistic locking:
    a save carrying an older version is refused instead of silently overwriting."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        abstract = True


class Company(TrackedModel):
    """A business the organization deals with. Its name can identify a sole trader, so it
    is encrypted like a person's name; so are its phones, address and notes."""

    # Led by the organization, its other indexes serve lookups by it (organization_field).
    organization = organization_field(db_index=False)

    class Size(models.TextChoices):
        MICRO = "1-9", _("1 to 9 employees")
        SMALL = "10-49", _("10 to 49 employees")
        MEDIUM = "50-249", _("50 to 249 employees")
        LARGE = "250+", _("250 or more employees")

    name = EncryptedCharField(_("name"), max_length=200)
    name_tokens = PrefixTokensField(sources=["name"])
    # Exact match on the folded name (imports link "ACME srl" to the existing "Acme SRL").
    name_index = BlindIndexField(source="name", kind="name")
    domain = models.CharField(_("website or domain"), max_length=253, blank=True)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    size = models.CharField(_("size"), max_length=8, choices=Size.choices, blank=True)
    phone = EncryptedPhoneField(_("phone"), blank=True)
    address = EncryptedTextField(_("address"), blank=True)
    notes = EncryptedTextField(_("notes"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    tags = models.ManyToManyField(Tag, through="CompanyTag", related_name="companies", blank=True)
    custom = models.JSONField(default=dict, blank=True)
    custom_personal = EncryptedJSONField(null=True, blank=True)
    # The record's id in the system it was imported from, to match it on a re-import.
    external_id = EncryptedCharField(_("external id"), max_length=100, blank=True)
    external_id_index = BlindIndexField(source="external_id", kind="external_id")

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        indexes = [
            models.Index(fields=["organization", "created_at", "id"], name="company_org_created_idx"),
            models.Index(fields=["organization", "domain"], name="company_domain_idx"),
            models.Index(fields=["organization", "name_index"], name="company_name_index_idx"),
            models.Index(fields=["organization", "external_id_index"], name="company_external_id_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class Contact(TrackedModel):
    """A person the organization keeps data about (the organization is the controller).

    Every personal field is encrypted; the blind indexes and name tokens are what the
    database can search (see logicnet/encryption/blind.py). `email` and `phone` are the
    primary ones; further addresses and numbers live in ContactEmail / ContactPhone.
    """

    # Led by the organization, its other indexes serve lookups by it (organization_field).
    organization = organization_field(db_index=False)

    class Status(models.TextChoices):
        LEAD = "lead", _("Lead")
        PROSPECT = "prospect", _("Prospect")
        CUSTOMER = "customer", _("Customer")
        FORMER = "former_customer", _("Former customer")

    class Source(models.TextChoices):
        # Where the data came from: GDPR Art. 14 / 15(1)(g) give the person a right to know.
        MANUAL = "manual", _("Entered by staff")
        IMPORT = "import", _("Imported from a file")
        WEB_FORM = "web_form", _("Web form")
        API = "api", _("API")

    MINOR_AGE = 16

    first_name = EncryptedCharField(_("first name"), max_length=100)
    last_name = EncryptedCharField(_("last name"), max_length=100, blank=True)
    email = EncryptedEmailField(_("email address"), max_length=254, blank=True)
    email_label = models.CharField(_("label"), max_length=8, choices=Label.choices, default=Label.WORK)
    phone = EncryptedPhoneField(_("phone"), max_length=32, blank=True)
    phone_label = models.CharField(_("label"), max_length=8, choices=Label.choices, default=Label.MOBILE)
    date_of_birth = EncryptedDateField(_("date of birth"), null=True, blank=True)
    # Derived from the date of birth by the services, and refreshed daily by beat
    # (contacts.refresh_minor_flags, contacts/services/minors.py): the
    # database cannot compute an age from an encrypted date.
    is_minor = models.BooleanField(_("minor (under 16)"), default=False, editable=False)
    job_title = EncryptedCharField(_("job title"), max_length=120, blank=True)
    notes = EncryptedTextField(_("notes"), blank=True)
    company = models.ForeignKey(
        Company, verbose_name=_("company"), on_delete=models.SET_NULL, null=True, blank=True, related_name="people"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    tags = models.ManyToManyField(Tag, through="ContactTag", related_name="contacts", blank=True)
    status = models.CharField(_("lifecycle status"), max_length=16, choices=Status.choices, default=Status.LEAD)
    preferred_language = models.CharField(_("preferred language"), max_length=8, blank=True)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices, default=Source.MANUAL)
    source_detail = EncryptedCharField(_("source detail"), max_length=200, blank=True)
    source_date = models.DateField(_("obtained on"), default=timezone.localdate)
    custom = models.JSONField(default=dict, blank=True)
    custom_personal = EncryptedJSONField(null=True, blank=True)
    # GDPR Art. 18: while set, the contact is left out of marketing, segments, exports, bulk
    # actions and integrations, and only the privacy desk may change it.
    restricted_at = models.DateTimeField(_("processing restricted since"), null=True, blank=True, editable=False)
    # GDPR Art. 21(3): an objection to direct marketing is absolute and takes effect at once.
    marketing_objection_at = models.DateTimeField(
        _("objected to direct marketing on"), null=True, blank=True, editable=False
    )

    email_index = BlindIndexField(source="email", kind="email")
    phone_index = BlindIndexField(source="phone", kind="phone")
    name_tokens = PrefixTokensField(sources=["first_name", "last_name"])
    # The person's id in the system they were imported from, to match them on a re-import.
    external_id = EncryptedCharField(_("external id"), max_length=100, blank=True)
    external_id_index = BlindIndexField(source="external_id", kind="external_id")

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        constraints = [
            # One contact per email address in an organization: imports deduplicate on it.
            models.UniqueConstraint(
                fields=["organization", "email_index"],
                condition=~Q(email_index=""),
                name="contact_unique_email",
                violation_error_message=_("A contact with this email address already exists."),
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "phone_index"], name="contact_phone_idx"),
            models.Index(fields=["organization", "external_id_index"], name="contact_external_id_idx"),
            # Keyset pagination: each list ordering is (column, id) within the organization.
            models.Index(fields=["organization", "created_at", "id"], name="contact_org_created_idx"),
            models.Index(fields=["organization", "updated_at", "id"], name="contact_org_updated_idx"),
            models.Index(fields=["organization", "owner", "created_at", "id"], name="contact_org_owner_idx"),
            models.Index(fields=["organization", "status", "created_at", "id"], name="contact_org_status_idx"),
            models.Index(fields=["organization", "company", "created_at", "id"], name="contact_org_company_idx"),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


# Search-as-you-type reads these tables, not the `name_tokens` arrays: under row-level
# security PostgreSQL uses an index only for leakproof operators, and array containment
# (`@>`, what a GIN index serves) is not one, while bigint equality is. A trigger (migration
# 0002) keeps each table equal to its row's array on every insert, update and delete, so no
# write path (bulk_create, re-encryption, SQL) can leave them apart.


# The token rows are written and deleted only by the database's own triggers, from the row
# they index and in the same statement (migrations 0002-0003): their references hold by
# construction, so they carry no foreign-key constraints. A constraint checked each token
# row (eight or more per name) once more at commit, about half the cost of a bulk import's
# tokens. The organization's own index is left out too: the token index starts with it.
TOKEN_REFERENCE = {"on_delete": models.CASCADE, "db_constraint": False}
# The row a token belongs to is indexed (migration 0014 put the index back after 0013 took it
# away): the triggers delete a row's tokens by its id, which the planner does with that index
# whatever the batch's size; through the token index, inside a statement trigger, it chose to
# read the organization's every token (5 s for 1,000 anonymised contacts at a million).
# Deleting the row is the triggers' work (DO_NOTHING here, or the ORM would look the tokens
# up by row first).
TOKEN_OF_ROW = {"on_delete": models.DO_NOTHING, "db_constraint": False}


class ContactNameToken(TenantModel):
    organization = models.ForeignKey(
        settings.TENANCY_ORGANIZATION_MODEL, related_name="+", editable=False, db_index=False, **TOKEN_REFERENCE
    )
    contact = models.ForeignKey(Contact, related_name="name_token_rows", **TOKEN_OF_ROW)
    token = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["organization", "token", "contact"], name="contact_token_idx")]

    def __str__(self) -> str:
        return f"token of contact {self.contact_id}"


class CompanyNameToken(TenantModel):
    organization = models.ForeignKey(
        settings.TENANCY_ORGANIZATION_MODEL, related_name="+", editable=False, db_index=False, **TOKEN_REFERENCE
    )
    company = models.ForeignKey(Company, related_name="name_token_rows", **TOKEN_OF_ROW)
    token = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["organization", "token", "company"], name="company_token_idx")]

    def __str__(self) -> str:
        return f"token of company {self.company_id}"


class ContactEmail(TenantModel):
    """A further email address of a contact (the primary one is on the contact)."""

    # Led by the organization, its other indexes serve lookups by it (organization_field).
    organization = organization_field(db_index=False)

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="extra_emails")
    label = models.CharField(_("label"), max_length=8, choices=Label.choices, default=Label.OTHER)
    email = EncryptedEmailField(_("email address"), max_length=254)
    email_index = BlindIndexField(source="email", kind="email")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "email_index"], name="contactemail_unique_email"),
        ]
        indexes = [models.Index(fields=["organization", "contact"], name="contactemail_contact_idx")]

    def __str__(self) -> str:
        return f"email of contact {self.contact_id}"


class ContactPhone(TenantModel):
    """A further phone number of a contact."""

    # Led by the organization, its other indexes serve lookups by it (organization_field).
    organization = organization_field(db_index=False)

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="extra_phones")
    label = models.CharField(_("label"), max_length=8, choices=Label.choices, default=Label.OTHER)
    phone = EncryptedPhoneField(_("phone"))
    phone_index = BlindIndexField(source="phone", kind="phone")

    class Meta:
        indexes = [
            models.Index(fields=["organization", "phone_index"], name="contactphone_phone_idx"),
            models.Index(fields=["organization", "contact"], name="contactphone_contact_idx"),
        ]

    def __str__(self) -> str:
        return f"phone of contact {self.contact_id}"


class ContactAddress(TenantModel):
    # Led by the organization, its other indexes serve lookups by it (organization_field).
    organization = organization_field(db_index=False)

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="addresses")
    label = models.CharField(_("label"), max_length=8, choices=Label.choices, default=Label.WORK)
    street = EncryptedCharField(_("street"), max_length=200, blank=True)
    city = EncryptedCharField(_("city"), max_length=100, blank=True)
    postal_code = EncryptedCharField(_("postal code"), max_length=20, blank=True)
    region = EncryptedCharField(_("county or region"), max_length=100, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "contact"], name="contactaddress_contact_idx")]

    def __str__(self) -> str:
        return f"address of contact {self.contact_id}"


class ContactTag(TenantModel):
    # Led by the organization, its other indexes serve lookups by it (organization_field).
    organization = organization_field(db_index=False)

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE)
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "contact", "tag"], name="contacttag_unique")]
        indexes = [models.Index(fields=["organization", "tag", "contact"], name="contacttag_tag_idx")]

    def __str__(self) -> str:
        return f"tag {self.tag_id} on contact {self.contact_id}"


class CompanyTag(TenantModel):
    # Led by the organization, its other indexes serve lookups by it (organization_field).
    organization = organization_field(db_index=False)

    company = models.ForeignKey(Company, on_delete=models.CASCADE)
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "company", "tag"], name="companytag_unique")]
        indexes = [models.Index(fields=["organization", "tag", "company"], name="companytag_tag_idx")]

    def __str__(self) -> str:
        return f"tag {self.tag_id} on company {self.company_id}"


class ContactShare(TenantModel):
    """Shares a contact with a member who may otherwise see only the contacts they own
    (the organization's `contact_visibility` setting)."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="shares")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "contact", "user"], name="contactshare_unique")]
        indexes = [models.Index(fields=["organization", "user", "contact"], name="contactshare_user_idx")]

    def __str__(self) -> str:
        return f"contact {self.contact_id} shared with {self.user_id}"


class CustomField(TenantModel):
    """A field an organization adds to its contacts or companies. Values live in the row's
    `custom` (not personal) or `custom_personal` (encrypted) JSON, keyed by `key`."""

    class Entity(models.TextChoices):
        CONTACT = "contact", _("Contacts")
        COMPANY = "company", _("Companies")

    class Kind(models.TextChoices):
        TEXT = "text", _("Text")
        NUMBER = "number", _("Number")
        DATE = "date", _("Date")
        CHOICE = "choice", _("Single choice")
        MULTI = "multi", _("Multiple choice")
        CHECKBOX = "checkbox", _("Checkbox")

    entity = models.CharField(_("for"), max_length=8, choices=Entity.choices)
    key = models.SlugField(_("key"), max_length=40)
    label = models.CharField(_("label"), max_length=80)
    kind = models.CharField(_("type"), max_length=8, choices=Kind.choices)
    choices = models.JSONField(_("choices"), default=list, blank=True)
    is_personal = models.BooleanField(
        _("holds personal data"),
        default=False,
        help_text=_("Personal values are encrypted and cannot be used as list filters."),
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "entity", "key"], name="customfield_unique_key")]

    def __str__(self) -> str:
        return self.label


class SavedView(TenantModel):
    """A named list filter: the user's own, or shared with the whole organization. The deal
    list (deals/) keeps its views here too: one mechanism for every list."""

    class Entity(models.TextChoices):
        CONTACT = "contact", _("Contact")
        COMPANY = "company", _("Company")
        DEAL = "deal", _("Deal")

    entity = models.CharField(max_length=8, choices=Entity.choices)
    name = models.CharField(_("name"), max_length=80)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    is_shared = models.BooleanField(_("share with the organization"), default=False)
    # Filters on structure (tags, owner, status, dates): plain, so no key is needed to list views.
    params = models.JSONField(default=dict)
    # Filters on personal values (a company name's first letters): encrypted like the values.
    personal_params = EncryptedJSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["organization", "entity", "owner"], name="savedview_owner_idx")]

    def __str__(self) -> str:
        return self.name
