"""Logicnet's own data-subject requests: the account holders (the staff users of customer
organizations) and the visitors of its site, whose data Logicnet controls.

They take the road an organization's requests take (privacy.services.requests), not a copy
of it: stored in PostgreSQL at submission, confirmed by an emailed link (7 days, a reminder,
expiry), one calendar month with one extension, refusal with reasons and the right to
complain to ANSPDCP, the timeline and the audit log. To do so they are kept under one
organization row that stands for Logicnet as controller (`platform_controller`): its own
data key encrypts them, row-level security walls them off from every customer, and the
request mail and beat's sweep work unchanged. That row has no members and is never a
customer: its slug (settings.PLATFORM_PRIVACY_SLUG) has no random suffix, which every
customer's slug has (accounts.services._unique_slug), and a row of that slug with members is
refused rather than used.

Platform staff work the requests in the admin (privacy/admin.py). For an account holder the
answer comes from the registry's user subject kind, through the account holder's own
self-service (accounts/account_rights.py): the access package the worker builds from the
registry (mailed as a link the user opens signed in), and the account's erasure, which keeps
what the registry keeps (audit entries redacted, not deleted) and is refused while the user is
the only owner of an organization with other members.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from logicnet.audit.services import record_event
from logicnet.tenancy.context import tenant_context
from logicnet.tenancy.organizations import membership_model, organization_model
from privacy.models import PrivacyRequest, PrivacySettings, RequestEvent, Right
from privacy.services.requests import (
    RequestError,
    locked_request,
    privacy_settings,
    require_open,
    timeline_event,
    touch_request,
)

Status = PrivacyRequest.Status
Event = RequestEvent.Kind


def platform_controller():
    """The organization row standing for Logicnet as controller, created on first use."""
    organization_class = organization_model()
    slug = settings.PLATFORM_PRIVACY_SLUG
    found = organization_class.objects.filter(slug=slug).first()
    if found is None:
        try:
            with transaction.atomic():
                found = organization_class.objects.create(name=settings.PLATFORM_CONTROLLER_NAME, slug=slug)
                with tenant_context(found):
                    PrivacySettings.objects.create(
                        organization=found,
                        controller_name=settings.PLATFORM_CONTROLLER_NAME,
                        contact_email=settings.PRIVACY_CONTACT_EMAIL,
                    )
        except IntegrityError:  # created by a concurrent first request
            found = organization_class.objects.get(slug=slug)
    if membership_model().objects.filter(organization_id=found.pk).exists():
        # Fail closed: Logicnet's requests must never land in a customer's organization.
        raise ImproperlyConfigured(
            f"PLATFORM_PRIVACY_SLUG {slug!r} names an organization with members; choose a slug no customer has"
        )
    return found


def is_platform_controller(organization) -> bool:
    return organization is not None and organization.slug == settings.PLATFORM_PRIVACY_SLUG


def controller_settings() -> PrivacySettings:
    return privacy_settings(platform_controller())


# --- the staff's side (the admin) ----------------------------------------------------------------


def requests_queue(*, open_only: bool = False):
    """Logicnet's own requests, most urgent first; evaluate inside the controller's tenant context."""
    organization = platform_controller()
    queryset = PrivacyRequest.objects.filter(organization=organization).select_related("account_holder")
    if open_only:
        queryset = queryset.filter(status__in=PrivacyRequest.OPEN_STATUSES)
    return queryset.order_by("-priority", "due_on", "received_at")


def get_request(request_id: int) -> PrivacyRequest | None:
    organization = platform_controller()
    with tenant_context(organization):
        return (
            PrivacyRequest.objects.filter(organization=organization, pk=request_id)
            .select_related("account_holder", "organization")
            .first()
        )


def account_candidates(privacy_request: PrivacyRequest) -> list:
    """The account whose sign-in address is the request's confirmed address (account
    addresses are unique): staff confirm it is the person (Art. 12(6): no ID documents as
    routine)."""
    from django.contrib.auth import get_user_model

    with tenant_context(privacy_request.organization):  # its data key opens the address
        email = privacy_request.email
    if not email or privacy_request.email_confirmed_at is None:
        return []
    return list(get_user_model().objects.filter(email__iexact=email, is_active=True)[:1])


def confirm_account_holder(privacy_request: PrivacyRequest, *, user, actor) -> PrivacyRequest:
    """Staff confirm the account holder the request is about; the request is then verified."""
    if user.pk not in {candidate.pk for candidate in account_candidates(privacy_request)}:
        raise RequestError(_("Only the account signed in with the request's confirmed email address can be matched."))
    organization = privacy_request.organization
    with transaction.atomic(), tenant_context(organization):
        privacy_request = locked_request(privacy_request)
        require_open(privacy_request)
        privacy_request.account_holder = user
        privacy_request.identity_confirmed_at = timezone.now()
        privacy_request.identity_confirmed_by = actor
        if privacy_request.status in (Status.RECEIVED, Status.AWAITING_VERIFICATION):
            privacy_request.status = Status.VERIFIED
        touch_request(privacy_request, "account_holder", "identity_confirmed_at", "identity_confirmed_by", "status")
        timeline_event(privacy_request, Event.CONTACT_MATCHED, actor=actor, user=user.pk)
        _audit(privacy_request, "account_holder_confirmed", actor=actor, user=user.pk)
    return privacy_request


def _audit(privacy_request: PrivacyRequest, action: str, *, actor, **details) -> None:
    record_event(
        action=f"privacy.{action}",
        actor=actor,
        organization=privacy_request.organization,
        target=privacy_request,
        details={"reference": privacy_request.reference, **details},
    )


def _holder_for(privacy_request: PrivacyRequest, right_names: tuple[str, ...]):
    require_open(privacy_request)
    if privacy_request.account_holder_id is None:
        raise RequestError(_("Confirm the account holder first."))
    if not set(right_names) & set(privacy_request.rights):
        raise RequestError(_("The person did not ask for this."))
    return privacy_request.account_holder


def _start(privacy_request: PrivacyRequest, *, actor, work: str, **details) -> PrivacyRequest:
    """Record that the answer is under way (timeline, audit, status in progress)."""
    with transaction.atomic(), tenant_context(privacy_request.organization):
        privacy_request = locked_request(privacy_request)
        if privacy_request.status != Status.IN_PROGRESS:
            privacy_request.status = Status.IN_PROGRESS
            touch_request(privacy_request, "status")
        timeline_event(privacy_request, Event.JOB_STARTED, actor=actor, work=work, **details)
        _audit(privacy_request, f"platform_{work}", actor=actor, **details)
    return privacy_request


def send_account_package(privacy_request: PrivacyRequest, *, actor, ip_address: str | None = None) -> PrivacyRequest:
    """Access and portability (Art. 15, 20) for an account holder: the worker builds the
    package from the registry's user subject kind (JSON with its schema, CSV per table, the
    readable page and the Art. 15(1) information) and mails the user a link valid 72 hours,
    which opens only signed in as them."""
    from accounts import account_rights

    user = _holder_for(privacy_request, (Right.ACCESS, Right.PORTABILITY))
    package = account_rights.request_data_package(user=user, ip_address=ip_address)
    return _start(privacy_request, actor=actor, work="account_package", package=package.pk)


def erase_account_holder(privacy_request: PrivacyRequest, *, actor, ip_address: str | None = None) -> PrivacyRequest:
    """Erasure (Art. 17) of an account holder: the account's own deletion. Sessions end at
    once; the worker erases through the registry what must go and keeps what must be kept
    (audit entries redacted, never deleted); an organization the user is the only member of
    is offboarded. Refused while the user is the only owner of an organization with other
    members: someone must answer for that organization's contacts (Art. 28)."""
    from accounts import account_rights

    user = _holder_for(privacy_request, (Right.ERASURE,))
    try:
        check = account_rights.begin_account_deletion(user=user, actor=actor, ip_address=ip_address)
    except ValidationError as exc:
        raise RequestError(exc.messages) from exc
    return _start(
        privacy_request,
        actor=actor,
        work="account_erasure",
        user=user.pk,
        offboarded=[organization.pk for organization in check.offboarded],
    )


def restrict_account_holder(privacy_request: PrivacyRequest, *, actor, ip_address: str | None = None) -> PrivacyRequest:
    """Restriction (Art. 18) or an objection (Art. 21) for an account holder: the account's
    own switches (processing restricted; no marketing from Logicnet)."""
    from accounts import services as account_services

    user = _holder_for(privacy_request, (Right.RESTRICTION, Right.OBJECTION))
    if Right.RESTRICTION in privacy_request.rights:
        account_services.set_processing_restriction(user=user, restricted=True, ip_address=ip_address)
    if Right.OBJECTION in privacy_request.rights:
        account_services.set_marketing_objection(user=user, objected=True, ip_address=ip_address)
    with transaction.atomic(), tenant_context(privacy_request.organization):
        if Right.RESTRICTION in privacy_request.rights:
            timeline_event(privacy_request, Event.RESTRICTED, actor=actor, user=user.pk)
        if Right.OBJECTION in privacy_request.rights:
            timeline_event(privacy_request, Event.OBJECTION_MARKETING, actor=actor, user=user.pk)
        _audit(privacy_request, "platform_account_restricted", actor=actor, user=user.pk)
    return privacy_request


def apply_account_marketing_objection(privacy_request: PrivacyRequest, *, actor=None) -> int:
    """An objection to Logicnet's marketing takes effect when the address is confirmed,
    without staff (Art. 21(3)): on the account signed in with that address, if any."""
    from accounts import services as account_services

    users = account_candidates(privacy_request)
    for user in users:
        account_services.set_marketing_objection(user=user, objected=True)
    with tenant_context(privacy_request.organization):
        timeline_event(privacy_request, Event.OBJECTION_MARKETING, actor=actor, accounts=len(users))
        _audit(privacy_request, "marketing_objection_applied", actor=actor, users=[user.pk for user in users])
    return len(users)


def notify_platform_staff(request_id: int) -> bool:
    """Tell Logicnet's privacy address that a confirmed request waits in the admin: its
    reference, rights and due date, and the admin page; nothing about the person (they are
    read in the admin, under the controller's key). True when the mail server took it."""
    import smtplib

    from django.core.mail import send_mail
    from django.urls import reverse

    privacy_request = get_request(request_id)
    if privacy_request is None:
        return False
    subject = _("New privacy request to Logicnet: %(reference)s") % {"reference": privacy_request.reference}
    lines = [
        _("A request made on Logicnet's privacy page was confirmed by the person."),
        "",
        _("Reference: %(reference)s") % {"reference": privacy_request.reference},
        _("Rights: %(rights)s") % {"rights": ", ".join(privacy_request.rights_display())},
        _("Due: %(due)s") % {"due": privacy_request.deadline.isoformat()},
        "",
        settings.SITE_URL + reverse("admin:privacy_platform_request", args=[privacy_request.pk]),
    ]
    try:
        send_mail(subject, "\n".join(lines), settings.DEFAULT_FROM_EMAIL, [settings.PRIVACY_CONTACT_EMAIL])
    except (smtplib.SMTPException, OSError):
        return False  # the admin's queue shows it all the same
    return True
