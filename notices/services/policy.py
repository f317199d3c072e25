"""Privacy policy versions: publish one, tell every account holder, record who accepted it.

The current version is the highest number. Whether a user has accepted it is a comparison
with the version on the user's own row (`privacy_policy_version`, kept with the acceptance
history in PolicyAcceptance), against the current number cached in Redis: the banner on
every signed-in page costs no query.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.mail import get_connection, send_mail
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from logicnet.audit.services import record_event
from logicnet.tenancy.context import active_alias, user_context
from notices.models import POLICY_TEMPLATE, PolicyAcceptance, PolicyVersion

log = logging.getLogger(__name__)

CURRENT_CACHE_KEY = "notices:policy:current"
NOTICE_BATCH_SIZE = 200
LANGUAGES = ("en", "ro")


def template_hash(template: str) -> str:
    """SHA-256 over the template's sources in every language, in a fixed order."""
    from django.template.loader import get_template

    digest = hashlib.sha256()
    for language in LANGUAGES:
        origin = get_template(template.format(language=language)).origin
        digest.update(Path(origin.name).read_bytes())
    return digest.hexdigest()


def text_hash(text_en: str, text_ro: str) -> str:
    digest = hashlib.sha256()
    for text in (text_en, text_ro):
        digest.update(text.encode())
        digest.update(b"\0")
    return digest.hexdigest()


def current_version() -> PolicyVersion:
    """The highest version. Version 1 is the policy in the code base (the template pair),
    seeded by the app's data migration; should the table be empty (a database flushed
    since), it is recorded again here, so there is always a version to accept."""
    version = PolicyVersion.objects.order_by("-number").first()
    if version is None:
        version, _created = PolicyVersion.objects.get_or_create(
            number=1,
            defaults={
                "template": POLICY_TEMPLATE,
                "content_hash": template_hash(POLICY_TEMPLATE),
                "changes_en": "The first published version.",
                "changes_ro": "Prima versiune publicată.",
                "notices_finished_at": timezone.now(),
            },
        )
    return version


def current_number() -> int:
    """The current version's number, cached (cleared when a version is published)."""
    number = cache.get(CURRENT_CACHE_KEY)
    if number is None:
        number = current_version().number
        cache.set(CURRENT_CACHE_KEY, number, 3600)
    return number


def needs_acceptance(user) -> bool:
    """Whether a signed-in user accepted an earlier version and has yet to accept the current
    one (the banner). Every sign-up accepts the version current then; an account made
    otherwise (by platform staff) has accepted none and is not asked here."""
    if not user.privacy_policy_version:
        return False
    return user.privacy_policy_version != str(current_number())


def publish_version(
    *,
    actor,
    text_en: str = "",
    text_ro: str = "",
    changes_en: str = "",
    changes_ro: str = "",
    template: str = "",
    ip_address: str | None = None,
) -> PolicyVersion:
    """Publish the next version: either a template pair already in the code base (`template`
    with `{language}`) or the text in both languages. Every account holder is then told by
    email (a batched task) and by a banner until they accept."""
    text_en, text_ro = text_en.strip(), text_ro.strip()
    if template:
        content_hash = template_hash(template)
    elif text_en and text_ro:
        content_hash = text_hash(text_en, text_ro)
    else:
        raise ValidationError(_("Give the policy's text in English and in Romanian."))
    if not (changes_en.strip() and changes_ro.strip()):
        raise ValidationError(_("Say what changed, in English and in Romanian: account holders are told."))
    alias = active_alias()  # the admin's platform transaction, inside its bypass
    try:
        with transaction.atomic(using=alias):
            number = (PolicyVersion.objects.aggregate(top=Max("number"))["top"] or 0) + 1
            # Two publishers at once: the unique number makes the second fail, not overwrite.
            version = PolicyVersion.objects.create(
                number=number,
                template=template,
                text_en=text_en,
                text_ro=text_ro,
                changes_en=changes_en.strip(),
                changes_ro=changes_ro.strip(),
                content_hash=content_hash,
            )
            record_event(
                action="privacy_policy.published",
                actor=actor,
                target=version,
                ip_address=ip_address,
                details={"version": number},
            )
            transaction.on_commit(lambda: _after_publish(version.pk), using=alias)
    except IntegrityError:
        raise ValidationError(_("Another version was published at the same moment. Try again.")) from None
    return version


def _after_publish(version_id: int) -> None:
    from kombu.exceptions import OperationalError

    from notices.tasks import send_policy_notices_task

    cache.delete(CURRENT_CACHE_KEY)
    try:
        send_policy_notices_task.delay(version_id)
    except OperationalError:
        log.warning("policy version %s: the broker is unreachable; beat's sweep sends the notices", version_id)


def accept_version(
    *, user, version: PolicyVersion, ip_address: str | None = None, audit: bool = True
) -> PolicyAcceptance:
    """Record that `user` accepted `version` (idempotent: the first acceptance stands).
    `audit=False`: the caller's own event names the version (sign-up)."""
    now = timezone.now()
    # The acceptances are the user's own rows (settings.TENANCY_USER_OWNED_MODELS).
    with user_context(user):
        acceptance, created = PolicyAcceptance.objects.get_or_create(
            user=user, version=version, defaults={"accepted_at": now}
        )
        if created:
            user.privacy_policy_version = str(version.number)
            user.privacy_policy_accepted_at = acceptance.accepted_at
            user.save(update_fields=["privacy_policy_version", "privacy_policy_accepted_at"])
            if audit:
                record_event(
                    action="privacy_policy.accepted",
                    actor=user,
                    target=user,
                    ip_address=ip_address,
                    details={"version": version.number},
                )
    return acceptance


def accept_current(*, user, ip_address: str | None = None, audit: bool = True) -> PolicyAcceptance:
    return accept_version(user=user, version=current_version(), ip_address=ip_address, audit=audit)


# --- the notice mail ---------------------------------------------------------------------------


def send_policy_notices(*, version_id: int, batch_size: int = NOTICE_BATCH_SIZE) -> int:
    """Mail every active account holder about a new version, a batch of users (by id) at a
    time; returns how many were mailed. Idempotent and resumable: the version row holds the
    last user id mailed.

    Each batch is sent while its version row is locked (FOR UPDATE SKIP LOCKED): a second
    worker on the same version skips it instead of mailing the batch again. That keeps a
    transaction open over one batch's SMTP conversation, on a row nothing else writes; the
    alternative, advancing first, would lose a batch whose sending failed."""
    User = get_user_model()
    sent = 0
    while True:
        with transaction.atomic(using=active_alias()):
            version = (
                PolicyVersion.objects.select_for_update(skip_locked=True)
                .filter(pk=version_id, notices_finished_at__isnull=True)
                .first()
            )
            if version is None:
                return sent
            users = list(
                User.objects.filter(pk__gt=version.notified_through, is_active=True)
                .exclude(email="")
                .order_by("pk")
                .only("pk", "email", "full_name", "language")[:batch_size]
            )
            if not users:
                version.notices_finished_at = timezone.now()
                version.save(update_fields=["notices_finished_at"])
                return sent
            with get_connection() as connection:
                for user in users:
                    _mail_notice(user, version, connection)
            version.notified_through = users[-1].pk
            version.save(update_fields=["notified_through"])
            sent += len(users)


def _mail_notice(user, version: PolicyVersion, connection) -> None:
    language = user.language if user.language in LANGUAGES else settings.LANGUAGE_CODE[:2]
    context = {
        "user": user,
        "version": version,
        "changes": version.changes_ro if language == "ro" else version.changes_en,
        "link": settings.SITE_URL + reverse("privacy_policy"),
    }
    with translation.override(language):
        send_mail(
            render_to_string("notices/email/policy_version_subject.txt", context).strip(),
            render_to_string("notices/email/policy_version_message.txt", context),
            settings.DEFAULT_FROM_EMAIL,
            [user.email],
            html_message=render_to_string("notices/email/policy_version_message.html", context),
            connection=connection,
        )


def unfinished_notices() -> list[int]:
    """Versions whose notice mail has not gone to everyone (beat's sweep carries them on)."""
    return list(PolicyVersion.objects.filter(notices_finished_at__isnull=True).values_list("pk", flat=True))


def policy_template(version: PolicyVersion, language: str) -> str:
    if version.template:
        return version.template.format(language=language)
    return "notices/policy_text.html"
