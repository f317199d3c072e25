"""Records and notices: privacy policy versions and who accepted which, the sub-processors
Logicnet uses (published at /privacy/subprocessors/), notices of a change to them and the
organizations' objections (GDPR Art. 28(2): the controller may object to a new
sub-processor).

The records of processing (Art. 30) have no table: notices/records.py generates them from
the personal-data registry each time they are read."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from logicnet.tenancy.models import TenantModel

POLICY_TEMPLATE = "accounts/privacy_policy_{language}.html"


class PolicyVersion(models.Model):
    """One published version of Logicnet's privacy policy, never changed once published.

    The text is either a template pair in the code base (`template`, with `{language}`: the
    seed policy, version 1) or the text staff wrote in English and Romanian. `content_hash`
    is the SHA-256 of what was published, so an acceptance proves which words were accepted."""

    number = models.PositiveIntegerField(_("version"), unique=True)
    published_at = models.DateTimeField(_("published"), default=timezone.now)
    template = models.CharField(_("template"), max_length=200, blank=True)
    text_en = models.TextField(_("text (English)"), blank=True)
    text_ro = models.TextField(_("text (Romanian)"), blank=True)
    changes_en = models.TextField(_("what changed (English)"), blank=True)
    changes_ro = models.TextField(_("what changed (Romanian)"), blank=True)
    content_hash = models.CharField(_("SHA-256 of the text"), max_length=64, editable=False)
    # The notice mail goes out in batches of users by id: the last id mailed, and when the
    # last batch went (beat's sweep carries on an unfinished notice after a restart).
    notified_through = models.BigIntegerField(default=0, editable=False)
    notices_finished_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("privacy policy version")
        verbose_name_plural = _("privacy policy versions")
        ordering = ["-number"]

    def __str__(self) -> str:
        return f"v{self.number}"


class PolicyAcceptance(models.Model):
    """A user accepted a version (GDPR Art. 7(1): the controller can show it). Append-only."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="policy_acceptances")
    version = models.ForeignKey(PolicyVersion, on_delete=models.PROTECT, related_name="acceptances")
    accepted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("privacy policy acceptance")
        verbose_name_plural = _("privacy policy acceptances")
        constraints = [models.UniqueConstraint(fields=["user", "version"], name="policyacceptance_once")]

    def __str__(self) -> str:
        return f"v{self.version_id} by user {self.user_id}"


class SubProcessor(models.Model):
    """A sub-processor Logicnet engages (GDPR Art. 28(2), (4)): who, for what, where."""

    key = models.SlugField(max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    service = models.CharField(_("service"), max_length=300)
    location = models.CharField(_("location"), max_length=200)
    in_eea = models.BooleanField(_("in the EEA"), default=True)
    listed_since = models.DateTimeField(_("listed since"), default=timezone.now)
    removed_at = models.DateTimeField(_("removed"), null=True, blank=True)

    class Meta:
        verbose_name = _("sub-processor")
        verbose_name_plural = _("sub-processors")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SubProcessorChange(models.Model):
    """A notice of a change to the sub-processors, sent to every organization's owners; an
    organization may object until `objection_until`."""

    summary = models.TextField(_("what changes"))
    announced_at = models.DateTimeField(_("announced"), default=timezone.now)
    objection_until = models.DateTimeField(_("objections until"))
    notified_through = models.BigIntegerField(default=0, editable=False)
    notices_finished_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("sub-processor change")
        verbose_name_plural = _("sub-processor changes")
        ordering = ["-announced_at"]

    def __str__(self) -> str:
        return f"{self.announced_at:%Y-%m-%d}: {self.summary[:60]}"

    @property
    def open_for_objection(self) -> bool:
        return timezone.now() < self.objection_until


class SubProcessorObjection(TenantModel):
    """An organization objected to a change (one per organization and change)."""

    change = models.ForeignKey(SubProcessorChange, on_delete=models.CASCADE, related_name="objections")
    objected_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    objected_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("sub-processor objection")
        verbose_name_plural = _("sub-processor objections")
        constraints = [
            models.UniqueConstraint(fields=["organization", "change"], name="subprocessorobjection_once"),
        ]
