from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from logicnet.encryption.fields import (
    BlindIndexField,
    EncryptedCharField,
    EncryptedDateField,
    EncryptedEmailField,
    EncryptedPhoneField,
    EncryptedTextField,
    PrefixTokensField,
)
from logicnet.tenancy.models import TenantModel


class Company(TenantModel):
    """A business the organization deals with. Its name can identify a sole trader, so it
    is encrypted like a person's name."""

    name = EncryptedCharField(_("name"), max_length=200)
    name_tokens = PrefixTokensField(sources=["name"])
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("companies")

    def __str__(self) -> str:
        return self.name


class Contact(TenantModel):
    """A person the organization keeps data about (the organization is the controller).

    Every personal field is encrypted; the blind indexes and name tokens are what the
    database can search (see logicnet/encryption/blind.py).
    """

    first_name = EncryptedCharField(_("first name"), max_length=100)
    last_name = EncryptedCharField(_("last name"), max_length=100, blank=True)
    email = EncryptedEmailField(_("email address"), max_length=254, blank=True)
    phone = EncryptedPhoneField(_("phone"), max_length=32, blank=True)
    date_of_birth = EncryptedDateField(_("date of birth"), null=True, blank=True)
    job_title = EncryptedCharField(_("job title"), max_length=120, blank=True)
    notes = EncryptedTextField(_("notes"), blank=True)

    email_index = BlindIndexField(source="email", kind="email")
    phone_index = BlindIndexField(source="phone", kind="phone")
    name_tokens = PrefixTokensField(sources=["first_name", "last_name"])

    created_at = models.DateTimeField(default=timezone.now)

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


class ContactNameToken(TenantModel):
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="name_token_rows")
    token = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["organization", "token", "contact"], name="contact_token_idx")]

    def __str__(self) -> str:
        return f"token of contact {self.contact_id}"


class CompanyNameToken(TenantModel):
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="name_token_rows")
    token = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["organization", "token", "company"], name="company_token_idx")]

    def __str__(self) -> str:
        return f"token of company {self.company_id}"
