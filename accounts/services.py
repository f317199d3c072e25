"""Accounts and organizations: every state change goes through these functions."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import get_random_string
from django.utils.text import slugify
from django.utils.translation import gettext as _

from accounts.models import Invitation, Membership, Organization, User
from billing.limits import check_seats
from logicnet import normalize
from logicnet.audit.services import record_event
from logicnet.tenancy.context import acting_user, tenant_context, user_context
from logicnet.tenancy.roles import Role

INVITATION_SALT = "accounts.invitation"


SLUG_SUFFIX_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"


def _unique_slug(name: str) -> str:
    """The name's slug with a random suffix, always: a plain slug for the first
    organization and a suffixed one for the second told the second that an organization of
    that name already exists. A retry happens only when the random suffix itself collides,
    which says nothing about any name."""
    base = slugify(name)[:48] or "org"
    while True:
        slug = f"{base}-{get_random_string(6, SLUG_SUFFIX_ALPHABET)}"
        if not Organization.objects.filter(slug=slug).exists():
            return slug


def create_organization(*, name: str, owner: User, country: str = "RO") -> Organization:
    with transaction.atomic():
        organization = Organization.objects.create(name=name, slug=_unique_slug(name), country=country)
        # The database lets a user join only the active organization, as themselves.
        with acting_user(owner), tenant_context(organization):
            Membership.objects.create(organization=organization, user=owner, role=Role.OWNER)
            record_event(action="organization.created", actor=owner, organization=organization, target=organization)
    return organization


def complete_signup(
    *, user: User, full_name: str, phone: str, company_name: str, ip_address: str | None
) -> Organization:
    """Record what sign-up asked for (the 16+ confirmation and the acceptance of the current
    privacy policy version, GDPR Art. 7(1), 8), and create the user's organization as its owner."""
    from notices.services.policy import accept_current

    now = timezone.now()
    with transaction.atomic():
        user.full_name = full_name
        # The one normal form (E.164), whoever calls: the sign-up form only validates.
        user.phone = normalize.to_e164(phone, None, require_valid=True) if phone else ""
        user.age_confirmed_at = now
        user.save(update_fields=["full_name", "phone", "age_confirmed_at"])
        acceptance = accept_current(user=user, ip_address=ip_address, audit=False)
        organization = create_organization(name=company_name, owner=user) if company_name else None
        record_event(
            action="account.signed_up",
            actor=user,
            organization=organization,
            ip_address=ip_address,
            details={"privacy_policy_version": acceptance.version.number},
        )
    return organization


# --- Invitations -----------------------------------------------------------------------------


def invitation_token(invitation: Invitation) -> str:
    return signing.dumps({"i": invitation.pk, "o": invitation.organization_id}, salt=INVITATION_SALT)


def read_invitation_token(token: str) -> tuple[int, int]:
    """(organization_id, invitation_id); raises ValidationError for a bad or expired link."""
    max_age = settings.INVITATION_MAX_AGE_DAYS * 24 * 3600
    try:
        data = signing.loads(token, salt=INVITATION_SALT, max_age=max_age)
    except signing.SignatureExpired:
        raise ValidationError(_("This invitation has expired. Ask for a new one.")) from None
    except signing.BadSignature:
        raise ValidationError(_("This invitation link is not valid.")) from None
    return int(data["o"]), int(data["i"])


def normalize_invitation_email(email: str) -> str:
    """The form of an address that invitations are stored and compared in: trimmed and
    lower-cased as a whole (allauth stores account addresses lower-cased too)."""
    return (email or "").strip().lower()


def invite_member(*, organization: Organization, actor: User, email: str, role: str, ip_address=None) -> Invitation:
    """Invite an address, or send the waiting invitation to it again.

    One address has at most one pending invitation per organization (a partial unique
    constraint): two would mean two links, and withdrawing one would leave the other
    working. Inviting again with the same role mails the same invitation again with a fresh
    link (the old link still works until it expires); with another role it is refused, so a
    role is never changed by a second mail the invitee may not open.
    """
    email = normalize_invitation_email(email)
    if Membership.objects.filter(organization=organization, user__email__iexact=email).exists():
        raise ValidationError(_("%(email)s is already a member.") % {"email": email})
    if role == Role.OWNER and not _is_owner(organization, actor):
        raise PermissionDenied
    with tenant_context(organization):
        invitation = (
            Invitation.objects.select_for_update()
            .filter(email=email, accepted_at=None, revoked_at=None)
            .order_by("created_at")
            .first()
        )
        if invitation is not None and invitation.role != role:
            raise ValidationError(
                _(
                    "An invitation to %(email)s is already waiting, as %(role)s. Withdraw it first "
                    "to invite with another role."
                )
                % {"email": email, "role": Role(invitation.role).label},
                code="already_invited",
            )
        resent = invitation is not None
        if invitation is None:
            # The plan's seats (members and pending invitations), with an upgrade prompt.
            check_seats(organization, adding=1)
            try:
                with transaction.atomic():
                    invitation = Invitation.objects.create(
                        organization=organization, email=email, role=role, invited_by=actor
                    )
            except IntegrityError:
                # Another admin invited the same address at the same moment.
                raise ValidationError(
                    _("An invitation to %(email)s is already waiting.") % {"email": email}, code="already_invited"
                ) from None
        record_event(
            action="member.invitation_resent" if resent else "member.invited",
            actor=actor,
            organization=organization,
            target=invitation,
            ip_address=ip_address,
            details={"role": role},
        )
        link = settings.SITE_URL + reverse("invitation_accept", args=[invitation_token(invitation)])
        context = {"organization": organization, "inviter": actor, "link": link, "role": Role(role).label}
        transaction.on_commit(
            lambda: send_mail(
                render_to_string("accounts/email/invitation_subject.txt", context).strip(),
                render_to_string("accounts/email/invitation_message.txt", context),
                settings.DEFAULT_FROM_EMAIL,
                [email],
                html_message=render_to_string("accounts/email/invitation_message.html", context),
            )
        )
    return invitation


def revoke_invitation(*, organization: Organization, actor: User, invitation: Invitation) -> None:
    with tenant_context(organization):
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        record_event(action="member.invitation_revoked", actor=actor, organization=organization, target=invitation)


def check_invitation_acceptable(*, invitation: Invitation, user: User) -> None:
    """Raise ValidationError unless this signed-in user may accept this invitation.

    The invitation belongs to the address it was sent to: the user must have *verified* that
    address (allauth's EmailAddress.verified). The link alone proves nothing (mail is
    forwarded, links leak into chats and tickets), and an account's unverified address is
    only text someone typed: without this, anyone holding the link, or any member of the
    organization who can read the pending list, could join under another person's invitation
    or use it up. Codes: not_pending, unverified_address, wrong_address.
    """
    if not invitation.is_pending:
        raise ValidationError(_("This invitation has already been used or was withdrawn."), code="not_pending")
    addresses = EmailAddress.objects.filter(user=user, email__iexact=normalize_invitation_email(invitation.email))
    if addresses.filter(verified=True).exists():
        return
    if addresses.exists():
        raise ValidationError(
            _("Confirm your address %(email)s first: open the link in the mail we sent to it, then come back here.")
            % {"email": invitation.email},
            code="unverified_address",
        )
    raise ValidationError(
        _(
            "This invitation was sent to another email address than the ones on your account. "
            "Sign in with the account of the address that received it."
        ),
        code="wrong_address",
    )


def accept_invitation(*, invitation: Invitation, user: User, ip_address=None) -> Membership:
    """Join the organization as the invited role.

    1. lock the invitation row and read it again (two tabs or two people at once);
    2. check the user has verified the invited address (check_invitation_acceptable);
       a refusal changes nothing, so the invitee can still use the invitation;
    3. create the membership, mark who accepted and when, write the audit row;
    4. after commit, tell the inviter who accepted.
    """
    # The database lets a user join only the active organization, as themselves.
    with acting_user(user), tenant_context(invitation.organization_id):
        invitation = Invitation.objects.select_for_update().select_related("organization").get(pk=invitation.pk)
        check_invitation_acceptable(invitation=invitation, user=user)
        if not Membership.objects.filter(organization_id=invitation.organization_id, user=user).exists():
            # Its seat was counted when it was sent, but the plan may have shrunk since.
            check_seats(invitation.organization, adding=1, counting_invitations=False)
        membership, _created = Membership.objects.get_or_create(
            organization_id=invitation.organization_id, user=user, defaults={"role": invitation.role}
        )
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        record_event(
            action="member.joined",
            actor=user,
            organization=invitation.organization_id,
            target=invitation,
            ip_address=ip_address,
            details={"role": membership.role, "invited_by": invitation.invited_by_id},
        )
        inviter = invitation.invited_by
        if inviter is not None and inviter.is_active and inviter != user:
            organization = invitation.organization
            transaction.on_commit(
                lambda: _mail_invitation_accepted(
                    inviter=inviter, user=user, organization=organization, role=membership.role
                )
            )
    return membership


def _mail_invitation_accepted(*, inviter: User, user: User, organization: Organization, role: str) -> None:
    context = {
        "inviter": inviter,
        "member": user,
        "organization": organization,
        "role": Role(role).label,
        "link": settings.SITE_URL + reverse("members", args=[organization.slug]),
    }
    with translation.override(inviter.language or settings.LANGUAGE_CODE):
        send_mail(
            render_to_string("accounts/email/invitation_accepted_subject.txt", context).strip(),
            render_to_string("accounts/email/invitation_accepted_message.txt", context),
            settings.DEFAULT_FROM_EMAIL,
            [inviter.email],
            html_message=render_to_string("accounts/email/invitation_accepted_message.html", context),
        )


# --- Members ---------------------------------------------------------------------------------


def _is_owner(organization: Organization, user: User) -> bool:
    return Membership.objects.filter(organization=organization, user=user, role=Role.OWNER).exists()


def _ensure_another_owner(membership: Membership) -> None:
    others = (
        Membership.objects.filter(organization_id=membership.organization_id, role=Role.OWNER)
        .exclude(pk=membership.pk)
        .select_for_update()
    )
    if membership.role == Role.OWNER and not others.exists():
        raise ValidationError(_("An organization needs at least one owner. Make someone else owner first."))


def change_member_role(*, organization: Organization, actor: User, membership: Membership, role: str) -> Membership:
    if Role.OWNER in (role, membership.role) and not _is_owner(organization, actor):
        raise PermissionDenied
    # Memberships change only in the active organization (a row policy in PostgreSQL).
    with tenant_context(organization):
        if role != Role.OWNER:
            _ensure_another_owner(membership)
        previous = membership.role
        membership.role = role
        fields = ["role"]
        details = {"from": previous, "to": role}
        if role == Role.READ_ONLY and membership.is_privacy_officer:
            # A read-only member does not work the privacy desk (set_privacy_officer).
            membership.is_privacy_officer = False
            fields.append("is_privacy_officer")
            details["privacy_officer"] = False
        membership.save(update_fields=fields)
        record_event(
            action="member.role_changed",
            actor=actor,
            organization=organization,
            target=membership.user,
            details=details,
        )
    return membership


def set_privacy_officer(*, organization: Organization, actor: User, membership: Membership, value: bool) -> Membership:
    """Appoint a member privacy officer (they may then work the privacy desk without being an
    admin) or end the appointment. A read-only member cannot be appointed: the desk changes
    requests. Setting the value it has already records nothing."""
    if membership.organization_id != organization.pk:
        raise PermissionDenied
    if value and membership.role == Role.READ_ONLY:
        raise ValidationError(_("A read-only member cannot be a privacy officer. Change their role first."))
    # Memberships change only in the active organization (a row policy in PostgreSQL).
    with tenant_context(organization):
        if membership.is_privacy_officer == value:
            return membership
        membership.is_privacy_officer = value
        membership.save(update_fields=["is_privacy_officer"])
        record_event(
            action="member.privacy_officer_appointed" if value else "member.privacy_officer_removed",
            actor=actor,
            organization=organization,
            target=membership.user,
        )
    return membership


def remove_member(*, organization: Organization, actor: User, membership: Membership) -> None:
    """Remove a member (or let one leave). The last owner cannot go. The removed member's
    sessions that were working in this organization end at once."""
    if membership.role == Role.OWNER and actor != membership.user and not _is_owner(organization, actor):
        raise PermissionDenied
    with tenant_context(organization):
        _ensure_another_owner(membership)
        user = membership.user
        membership.delete()
        record_event(
            action="member.left" if actor == user else "member.removed",
            actor=actor,
            organization=organization,
            target=user,
        )
        transaction.on_commit(lambda: end_organization_sessions(user=user, organization=organization))


def end_organization_sessions(*, user: User, organization: Organization) -> int:
    from allauth.usersessions.models import UserSession

    ended = 0
    # Session records are visible to the web role only for the acting user: the removal,
    # which an owner or admin of the organization was entitled to make, acts here for the
    # member removed, to end that member's sessions and nothing else.
    with user_context(user):
        for session in UserSession.objects.filter(user=user):
            if organization.pk in session.data.get("organizations", []):
                session.end()
                ended += 1
    return ended


def end_user_session(*, user: User, session_id: int, ip_address=None) -> None:
    from allauth.usersessions.models import UserSession

    with user_context(user):
        session = UserSession.objects.get(pk=session_id, user=user)
        session.end()
    record_event(action="session.revoked", actor=user, ip_address=ip_address, details={"session": session_id})


def end_other_sessions(*, user: User, current_session_key: str | None, ip_address=None) -> int:
    """Sign the user out everywhere but here (a lost phone, a shared computer): every other
    session record of the user ends, deleting its Django session, so the next request of
    those browsers meets the sign-in page. One audit event names how many ended."""
    from allauth.usersessions.models import UserSession

    ended = 0
    with user_context(user):
        for session in UserSession.objects.filter(user=user).exclude(session_key=current_session_key or ""):
            session.end()
            ended += 1
    record_event(action="session.revoked_others", actor=user, ip_address=ip_address, details={"count": ended})
    return ended


def update_organization(
    *, organization: Organization, actor: User, name: str, country: str, require_two_factor: bool
) -> Organization:
    changed = {
        field: value
        for field, value in (("name", name), ("country", country), ("require_two_factor", require_two_factor))
        if getattr(organization, field) != value
    }
    if not changed:
        return organization
    # Only the active organization's row can be changed (a row policy in PostgreSQL).
    with tenant_context(organization):
        for field, value in changed.items():
            setattr(organization, field, value)
        organization.save(update_fields=list(changed))
        record_event(
            action="organization.settings_changed",
            actor=actor,
            organization=organization,
            details={field: str(value) for field, value in changed.items()},
        )
        if "country" in changed:
            # The country reads national phone numbers: the phones still stored in a national
            # format and their blind indexes are brought up to it by a job (sent on commit).
            from logicnet.encryption.reindex import REINDEX_JOB
            from logicnet.jobs.services import start_job

            start_job(organization=organization, actor=actor, kind=REINDEX_JOB)
    return organization


# --- The account holder's own data (Logicnet is the controller; /account/privacy/) -------------------


def update_account_details(*, user: User, full_name: str, phone: str, language: str, ip_address=None) -> list[str]:
    """Correct the account's details (GDPR Art. 16). The email address is allauth's (its
    own page confirms a new address before using it). Returns the names of the fields
    changed; the audit event names them, never their values."""
    values = {
        "full_name": " ".join(full_name.split()),
        # The one normal form (E.164), whoever calls: the form only validates.
        "phone": normalize.to_e164(phone, None, require_valid=True) if phone else "",
        "language": language,
    }
    changed = [field for field, value in values.items() if getattr(user, field) != value]
    if not changed:
        return []
    with transaction.atomic():
        for field in changed:
            setattr(user, field, values[field])
        user.save(update_fields=changed)
        record_event(action="account.details_corrected", actor=user, ip_address=ip_address, details={"fields": changed})
    return changed


def set_marketing_objection(*, user: User, objected: bool, ip_address=None) -> User:
    """Object to Logicnet's own marketing, or withdraw the objection (GDPR Art. 21(2)-(3)):
    effective at once, without anyone reviewing it. Setting what is set records nothing."""
    if (user.marketing_opt_out_at is not None) == objected:
        return user
    with transaction.atomic():
        user.marketing_opt_out_at = timezone.now() if objected else None
        user.save(update_fields=["marketing_opt_out_at"])
        record_event(
            action="account.marketing_objected" if objected else "account.marketing_objection_withdrawn",
            actor=user,
            ip_address=ip_address,
        )
    return user


def set_processing_restriction(*, user: User, restricted: bool, ip_address=None) -> User:
    """Ask Logicnet to restrict the processing of the account's data (GDPR Art. 18), or lift
    the request. Recorded on the user and shown to platform administrators, who stop any
    processing beyond storage that the account does not need to keep working (marketing
    stops at once: User.may_receive_marketing)."""
    if (user.processing_restricted_at is not None) == restricted:
        return user
    with transaction.atomic():
        user.processing_restricted_at = timezone.now() if restricted else None
        user.save(update_fields=["processing_restricted_at"])
        record_event(
            action="account.processing_restricted" if restricted else "account.processing_restriction_lifted",
            actor=user,
            ip_address=ip_address,
        )
    return user
