from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from logicnet.tenancy.models import TenantModel
from logicnet.tenancy.roles import Role


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra) -> User:
        if not email:
            raise ValueError("email is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra) -> User:
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in: staff of a customer business, or a platform administrator.

    Logicnet is the controller of this account data (the tenant is for contact data).
    """

    email = models.EmailField(_("email address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=150)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("platform staff"), default=False)
    date_joined = models.DateTimeField(_("joined"), default=timezone.now)
    # Sign-up asks the person to confirm they are at least 16 (GDPR Art. 8; the product is
    # not for children) and records which privacy-policy version they accepted.
    age_confirmed_at = models.DateTimeField(null=True, blank=True)
    privacy_policy_version = models.CharField(max_length=32, blank=True)
    privacy_policy_accepted_at = models.DateTimeField(null=True, blank=True)
    language = models.CharField(_("language"), max_length=8, default="en")
    # The account holder's own choices about Logicnet's processing (GDPR Art. 18, 21(2)),
    # set from /account/privacy/ and shown to platform administrators in the admin.
    processing_restricted_at = models.DateTimeField(_("processing restricted since"), null=True, blank=True)
    marketing_opt_out_at = models.DateTimeField(_("objected to marketing on"), null=True, blank=True)
    # The account holder confirmed deleting their account (GDPR Art. 17): signed out and
    # unable to sign in from then on; the worker erases the account, and a beat sweep
    # resumes an erasure a crashed worker left unfinished.
    deletion_requested_at = models.DateTimeField(_("deletion requested on"), null=True, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.email

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email

    @property
    def may_receive_marketing(self) -> bool:
        """Whether Logicnet may send this account holder its own marketing: not after an
        objection (GDPR Art. 21(3), absolute) nor while processing is restricted (Art. 18)."""
        return self.marketing_opt_out_at is None and self.processing_restricted_at is None


class Organization(models.Model):
    """The tenant: a customer business. Its rows are walled off in the app and in PostgreSQL."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("URL name"), max_length=60, unique=True)
    country = models.CharField(_("country"), max_length=2, default="RO")
    require_two_factor = models.BooleanField(_("require two-factor authentication for every member"), default=False)

    class ContactVisibility(models.TextChoices):
        ALL = "all", _("Members see every contact")
        OWN = "own", _("Members see the contacts they own and those shared with them")

    contact_visibility = models.CharField(
        _("contact visibility"), max_length=8, choices=ContactVisibility.choices, default=ContactVisibility.ALL
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's role in an organization. Not under row-level security (see RLS_EXEMPT)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.MEMBER)
    # May work the privacy desk (data-subject requests) without being an admin.
    is_privacy_officer = models.BooleanField(_("privacy officer"), default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="membership_unique_user"),
        ]
        indexes = [models.Index(fields=["user", "organization"], name="membership_user_idx")]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization} ({self.role})"


class Invitation(TenantModel):
    """An invitation by email. The link carries a signed token that expires."""

    email = models.EmailField(_("email address"))
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.MEMBER)
    invited_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "created_at"], name="invitation_org_idx")]
        constraints = [
            # One waiting invitation per address: a second would be a second working link.
            models.UniqueConstraint(
                fields=["organization", "email"],
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="invitation_one_pending_per_address",
            ),
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None


class AccountDataPackage(models.Model):
    """An account holder's "download my data" (GDPR Art. 15, 20): built by the worker, the
    zip sealed at rest with the platform key under ACCOUNT_PACKAGES_DIR, downloadable for
    ACCOUNT_PACKAGE_RETENTION. No organization: the rows are the user's own, and a row
    policy keyed by the acting user (`app.user_id`, logicnet/tenancy/rls.py) shows the web
    role only the signed-in user's rows."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Being prepared")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="data_packages")
    state = models.CharField(max_length=8, choices=State.choices, default=State.QUEUED)
    requested_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    size = models.PositiveIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "requested_at"], name="account_package_user_idx")]

    def __str__(self) -> str:
        return f"data package {self.pk} ({self.state})"


# Two-factor devices with sealed seeds and hashed backup codes (their own module).
from accounts.two_factor_models import AuthenticatorDevice, BackupCode, BackupCodeDevice  # noqa: E402, F401
