"""The account holder's rights over their own account data, Logicnet being the controller
(GDPR Art. 15-21), at /account/privacy/. Correcting the details, objecting to marketing and
restricting processing are small services in accounts/services.py; this module holds the
two that run in the worker, because they read and erase across organizations under the
audited platform bypass, which only worker, beat, admin and command processes can open:

- "Download my data" (Art. 15, 20): a package row (AccountDataPackage, under a row policy
  keyed by the acting user), a task that builds the zip from the registry
  (`access.collect("user", user)`), seals it with the platform key under
  ACCOUNT_PACKAGES_DIR, and mails a link valid ACCOUNT_PACKAGE_LINK_VALID; the download is
  for the signed-in owner only and audited; the file goes after ACCOUNT_PACKAGE_RETENTION.
- "Delete my account" (Art. 17): refused while the user is the only owner of an
  organization that has other members (someone else must be made owner first); otherwise
  the user is signed out everywhere and can no longer sign in, and a task mails a last
  confirmation, offboards the organizations the user is the only member of, deletes the
  user's packages and erases the account through `erasure.execute` (memberships removed,
  sessions ended, audit values redacted, never deleted). A beat sweep resumes an erasure a
  crashed worker left unfinished.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from allauth.usersessions.models import UserSession
from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import AccountDataPackage, Invitation, Membership, Organization, User
from logicnet.audit.services import record_event
from logicnet.encryption.keys import open_platform_value, seal_platform_value
from logicnet.files import delete_files_older_than
from logicnet.tenancy.context import acting_user, tenant_context, user_context
from logicnet.tenancy.roles import Role

log = logging.getLogger(__name__)

State = AccountDataPackage.State
_DOWNLOAD_SALT = "accounts.package.download"
# A package still queued or being built this long after it was asked for is taken to be
# lost (its worker died): asking again builds it again.
PACKAGE_STALE_AFTER = datetime.timedelta(minutes=15)
# An erasure confirmed this long ago whose user row still exists was interrupted: resumed.
DELETION_RESUME_AFTER = datetime.timedelta(minutes=15)


# --- download my data ------------------------------------------------------------------------------


def package_path(package_id: int) -> Path:
    return Path(settings.ACCOUNT_PACKAGES_DIR) / f"package-{package_id}.zip.sealed"


def _associated_data(package_id: int, user_id: int) -> bytes:
    # Binds the sealed file to its package and its user: a file copied under another
    # package's name does not open.
    return f"accounts.AccountDataPackage|{package_id}|{user_id}".encode()


def latest_package(user: User) -> AccountDataPackage | None:
    with user_context(user):
        return AccountDataPackage.objects.filter(user=user).order_by("-requested_at", "-pk").first()


def package_expires_at(package: AccountDataPackage) -> datetime.datetime | None:
    return package.finished_at + settings.ACCOUNT_PACKAGE_RETENTION if package.finished_at else None


def package_available(package: AccountDataPackage) -> bool:
    expires_at = package_expires_at(package)
    return (
        package.state == State.READY
        and expires_at is not None
        and timezone.now() < expires_at
        and package_path(package.pk).exists()
    )


def package_in_progress(package: AccountDataPackage | None) -> bool:
    return (
        package is not None
        and package.state in (State.QUEUED, State.RUNNING)
        and package.requested_at > timezone.now() - PACKAGE_STALE_AFTER
    )


def request_data_package(*, user: User, ip_address: str | None = None) -> AccountDataPackage:
    """Queue the building of the user's package (sent to the worker after commit). A package
    already on its way is returned instead of a second one."""
    from accounts.tasks import build_account_package

    with user_context(user):
        current = AccountDataPackage.objects.filter(user=user).order_by("-requested_at", "-pk").first()
        if package_in_progress(current):
            return current
        package = AccountDataPackage.objects.create(user=user)
        record_event(action="account.package_requested", actor=user, target=package, ip_address=ip_address)
        user_id, package_id = user.pk, package.pk
        transaction.on_commit(lambda: build_account_package.delay(user_id, package_id))
    return package


def build_zip(user: User) -> tuple[bytes, dict]:
    """The package (zip bytes) and a summary without personal data. Reads under the audited
    platform bypass (access.collect), so it runs in the worker."""
    from logicnet.personal_data import access

    return access.to_zip(access.collect("user", user))


def store_package_file(*, package_id: int, user_id: int, content: bytes) -> Path:
    """Seal the zip with the platform key and write it under its final name atomically."""
    sealed = seal_platform_value(content, associated_data=_associated_data(package_id, user_id))
    path = package_path(package_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{time.monotonic_ns()}.partial")
    partial.write_text(sealed, encoding="ascii")
    partial.replace(path)  # never a half file under the final name
    return path


def build_data_package(*, user_id: int, package_id: int) -> dict:
    """The worker's part: claim the package row (queued, or running but stale), build and
    seal the zip, write it under its final name atomically, mark it ready and mail the link.
    Idempotent: a package claimed or finished elsewhere is left alone."""
    now = timezone.now()
    with user_context(user_id):
        claimed = (
            AccountDataPackage.objects.filter(pk=package_id, user_id=user_id)
            .filter(Q(state=State.QUEUED) | Q(state=State.RUNNING, started_at__lt=now - PACKAGE_STALE_AFTER))
            .update(state=State.RUNNING, started_at=now)
        )
    user = User.objects.filter(pk=user_id, deletion_requested_at=None).first()
    if not claimed or user is None:
        return {"claimed": False}
    try:
        content, summary = build_zip(user)
        store_package_file(package_id=package_id, user_id=user_id, content=content)
    except Exception:
        with user_context(user_id):
            AccountDataPackage.objects.filter(pk=package_id).update(state=State.FAILED, finished_at=timezone.now())
        raise
    digest = hashlib.sha256(content).hexdigest()
    with user_context(user_id):
        AccountDataPackage.objects.filter(pk=package_id).update(
            state=State.READY, finished_at=timezone.now(), size=len(content), sha256=digest
        )
        package = AccountDataPackage.objects.get(pk=package_id)
        record_event(action="account.package_ready", actor=user, target=package, details={"count": summary["rows"]})
    _mail_package_ready(user, package)
    return {"claimed": True, "bytes": len(content), **summary}


def download_token(package: AccountDataPackage) -> str:
    return signing.dumps({"p": package.pk, "u": package.user_id}, salt=_DOWNLOAD_SALT)


def download_url(package: AccountDataPackage) -> str:
    return reverse("account_package_download", args=[download_token(package)])


def _mail_package_ready(user: User, package: AccountDataPackage) -> None:
    context = {
        "user": user,
        "link": settings.SITE_URL + download_url(package),
        "valid_hours": int(settings.ACCOUNT_PACKAGE_LINK_VALID.total_seconds() // 3600),
        "expires_at": package_expires_at(package),
    }
    with translation.override(user.language or settings.LANGUAGE_CODE):
        send_mail(
            render_to_string("accounts/email/package_ready_subject.txt", context).strip(),
            render_to_string("accounts/email/package_ready_message.txt", context),
            settings.DEFAULT_FROM_EMAIL,
            [user.email],
        )


def open_package_download(*, user: User, token: str, ip_address: str | None = None) -> tuple[AccountDataPackage, bytes]:
    """The package a download link names, decrypted, for its own signed-in user; raises
    ValidationError when the link is forged, expired (ACCOUNT_PACKAGE_LINK_VALID), another
    user's, or the package is gone. Every download is audited."""
    try:
        data = signing.loads(token, salt=_DOWNLOAD_SALT, max_age=settings.ACCOUNT_PACKAGE_LINK_VALID)
    except signing.BadSignature:
        raise ValidationError(_("This download link is not valid or has expired."), code="invalid") from None
    if data.get("u") != user.pk:
        raise ValidationError(_("This download link is not valid or has expired."), code="invalid")
    with user_context(user):
        package = AccountDataPackage.objects.filter(pk=data.get("p"), user=user).first()
        if package is None or not package_available(package):
            raise ValidationError(_("This package is no longer available."), code="gone")
        content = open_platform_value(
            package_path(package.pk).read_text(encoding="ascii"),
            associated_data=_associated_data(package.pk, user.pk),
        )
        record_event(action="account.package_downloaded", actor=user, target=package, ip_address=ip_address)
    return package, content


def delete_expired_packages(*, now: float | None = None) -> int:
    """Package files older than ACCOUNT_PACKAGE_RETENTION go (the files alone: no database
    access, so the sweep needs no cross-user role). The page reads availability from the
    row's finished_at and the file together."""
    return delete_files_older_than(
        Path(settings.ACCOUNT_PACKAGES_DIR), "package-*", settings.ACCOUNT_PACKAGE_RETENTION, now=now
    )


# --- delete my account -----------------------------------------------------------------------------


@dataclass
class DeletionCheck:
    """What deleting the account means for the user's organizations.

    blocking: the user is the only owner and others are members; an owner is needed
    (GDPR Art. 28: the organization is the controller of its contacts, and someone must
    answer for them), so the user makes someone else owner first.
    offboarded: the user is the only member; nobody else could ever reach the organization
    again, so it is offboarded with the account (its data erased, its data key destroyed)
    rather than left as an orphan keeping personal data with no one responsible for it."""

    blocking: list[Organization] = field(default_factory=list)
    offboarded: list[Organization] = field(default_factory=list)

    @property
    def allowed(self) -> bool:
        return not self.blocking


def deletion_check(user: User) -> DeletionCheck:
    check = DeletionCheck()
    owned = Membership.objects.filter(user=user, role=Role.OWNER).select_related("organization").order_by("pk")
    for membership in owned:
        others = Membership.objects.filter(organization_id=membership.organization_id).exclude(user=user)
        if others.filter(role=Role.OWNER).exists():
            continue
        if others.exists():
            check.blocking.append(membership.organization)
        else:
            check.offboarded.append(membership.organization)
    return check


def confirmation_matches(user: User, confirmation: str) -> bool:
    """The user typed their email address, or their password."""
    typed = (confirmation or "").strip()
    return bool(typed) and (typed.lower() == user.email.lower() or user.check_password(confirmation))


def request_account_deletion(*, user: User, confirmation: str, ip_address: str | None = None) -> DeletionCheck:
    """Confirm deleting the account.

    1. the confirmation must match (email or password), and no organization may block;
    2. in one transaction: withdraw the pending invitations of the organizations that will
       be offboarded (nobody may join one in the meantime), mark the user inactive (no new
       sign-in) with the time of the request, and audit it;
    3. after commit: end every session of the user and queue the erasure task.
    Raises ValidationError (codes: confirmation, blocked)."""
    if not confirmation_matches(user, confirmation):
        raise ValidationError(_("Type your email address or your password to confirm."), code="confirmation")
    return begin_account_deletion(user=user, ip_address=ip_address)


def begin_account_deletion(*, user: User, actor: User | None = None, ip_address: str | None = None) -> DeletionCheck:
    """Steps 2 and 3 of `request_account_deletion`, for the user themselves (confirmed) or for
    Logicnet's privacy staff answering the user's erasure request (`actor`, GDPR Art. 17);
    the same refusal while the user is the only owner of an organization with other members.
    Raises ValidationError (code: blocked)."""
    from accounts.tasks import erase_account

    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        check = deletion_check(user)
        if not check.allowed:
            names = ", ".join(organization.name for organization in check.blocking)
            raise ValidationError(
                _("You are the only owner of %(names)s. Make another member owner first.") % {"names": names},
                code="blocked",
            )
        for organization in check.offboarded:
            with acting_user(user), tenant_context(organization):
                Invitation.objects.filter(accepted_at=None, revoked_at=None).update(revoked_at=timezone.now())
        user.deletion_requested_at = timezone.now()
        user.is_active = False
        user.save(update_fields=["deletion_requested_at", "is_active"])
        record_event(
            action="account.deletion_requested",
            actor=actor or user,
            target=user if actor is not None else None,
            ip_address=ip_address,
            details={"organizations": [organization.pk for organization in check.offboarded]},
        )
        user_id = user.pk
        transaction.on_commit(lambda: end_all_sessions(user_id=user_id))
        transaction.on_commit(lambda: erase_account.delay(user_id))
    return check


def end_all_sessions(*, user_id: int) -> int:
    ended = 0
    with user_context(user_id):  # runs after commit, outside the request's user block
        for session in UserSession.objects.filter(user_id=user_id):
            session.end()
            ended += 1
    return ended


def _mail_account_deleted(*, email: str, language: str, full_name: str, organizations: list[str]) -> None:
    context = {"full_name": full_name, "organizations": organizations}
    with translation.override(language or settings.LANGUAGE_CODE):
        send_mail(
            render_to_string("accounts/email/account_deleted_subject.txt", context).strip(),
            render_to_string("accounts/email/account_deleted_message.txt", context),
            settings.DEFAULT_FROM_EMAIL,
            [email],
        )


def erase_account(*, user_id: int) -> dict:
    """The worker's part of deleting an account; idempotent and resumable.

    1. nothing to do when the user is gone or never asked;
    2. check again: if someone joined an organization the user is the only owner of (the
       invitations were withdrawn, so only through the platform), the deletion is undone
       and the user can sign in again to hand it over;
    3. mail the confirmation while the address still exists (a resumed run may send it
       again; a second identical notice is better than none);
    4. offboard the organizations the user is the only member of;
    5. delete the user's package files;
    6. erase the account through the registry (the user row goes last, so a run killed
       half-way is found and finished by the beat sweep).
    """
    from logicnet.personal_data import erasure
    from logicnet.personal_data.offboarding import offboard_organization

    user = User.objects.filter(pk=user_id).first()
    if user is None:
        return {"already_erased": True}
    if user.deletion_requested_at is None:
        return {"requested": False}
    check = deletion_check(user)
    if not check.allowed:
        with transaction.atomic():
            User.objects.filter(pk=user_id).update(deletion_requested_at=None, is_active=True)
            record_event(
                action="account.deletion_refused",
                actor=user,
                details={"organizations": [organization.pk for organization in check.blocking]},
            )
        log.warning("account %s: deletion undone, it is now the only owner of organizations with members", user_id)
        return {"refused": True}
    _mail_account_deleted(
        email=user.email,
        language=user.language,
        full_name=user.full_name,
        organizations=[organization.name for organization in check.offboarded],
    )
    for organization in check.offboarded:
        offboard_organization(organization=organization)
    with user_context(user_id):
        package_ids = list(AccountDataPackage.objects.filter(user_id=user_id).values_list("pk", flat=True))
    for package_id in package_ids:
        package_path(package_id).unlink(missing_ok=True)
    counts = erasure.execute(erasure.plan("user", user))
    record_event(
        action="account.erased",
        details={
            "deleted": counts["deleted"],
            "blanked": counts["blanked"],
            "organizations": [organization.pk for organization in check.offboarded],
        },
    )
    return {"erased": True, "offboarded": len(check.offboarded)}


def resume_account_deletions(*, now: datetime.datetime | None = None) -> int:
    """Accounts whose deletion was confirmed a while ago and still exist: queued again."""
    from accounts.tasks import erase_account

    cutoff = (now or timezone.now()) - DELETION_RESUME_AFTER
    ids = list(User.objects.filter(deletion_requested_at__lt=cutoff).values_list("pk", flat=True))
    for user_id in ids:
        erase_account.delay(user_id)
    return len(ids)
