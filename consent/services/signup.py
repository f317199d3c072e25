"""The embeddable double-opt-in sign-up form of a purpose.

1. The organization pastes a plain HTML form into its own website (or links to the hosted
   page); it POSTs cross-site to /p/<org>/consent/<purpose>/. Django's CSRF cookie cannot
   work there (the browser is on the organization's site), so the form carries a signed
   token naming the organization and purpose instead, and nothing is done on the strength
   of the POST alone: it only sends a confirmation mail (rate-limited per client address
   and per email address; a honeypot field turns bots away silently).
2. The mail's link opens a page with a button (a mail scanner that prefetches links
   confirms nothing); pressing it creates or finds the contact through the blind index of
   the address and appends "given" to the ledger, with the notice version the form showed
   and the evidence of both steps. The sign-up row is deleted then.
3. A sign-up never confirmed is deleted after SIGNUP_VALID by beat's sweep.
"""

from __future__ import annotations

import datetime
import logging

from django.core import signing
from django.db import transaction
from django.utils import timezone

from consent.models import ConsentRecord, NoticeVersion, PendingSignup, Purpose
from consent.services.ledger import give_consent
from logicnet.audit.services import record_event
from logicnet.tenancy.context import tenant_context

log = logging.getLogger(__name__)

SIGNUP_VALID = datetime.timedelta(days=7)
_FORM_SALT = "consent.form"
_CONFIRM_SALT = "consent.signup-confirm"


def form_token(purpose: Purpose) -> str:
    """The token the embeddable form carries: it says the form was made by the organization
    for this purpose. No timestamp: the snippet is pasted once and must keep working."""
    return signing.dumps({"o": purpose.organization_id, "p": purpose.pk}, salt=_FORM_SALT)


def form_token_valid(purpose: Purpose, token: str) -> bool:
    try:
        data = signing.loads(token or "", salt=_FORM_SALT)
    except signing.BadSignature:
        return False
    return isinstance(data, dict) and data.get("o") == purpose.organization_id and data.get("p") == purpose.pk


def confirmation_token(signup: PendingSignup) -> str:
    return signing.dumps({"o": signup.organization_id, "s": signup.pk}, salt=_CONFIRM_SALT)


def signup_for_token(organization, token: str) -> PendingSignup | None:
    try:
        data = signing.loads(token, salt=_CONFIRM_SALT, max_age=SIGNUP_VALID)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("o") != organization.pk:
        return None
    with tenant_context(organization):
        return (
            PendingSignup.objects.filter(organization=organization, pk=data.get("s"))
            .select_related("purpose", "notice")
            .first()
        )


def submit_signup(
    *,
    organization,
    purpose: Purpose,
    notice: NoticeVersion,
    email: str,
    first_name: str = "",
    ip_address: str = "",
    user_agent: str = "",
    page: str = "",
    language: str = "en",
) -> PendingSignup:
    """Store the sign-up and send the confirmation mail after commit (a task)."""
    if notice.purpose_id != purpose.pk:
        raise ValueError("the notice version is not one of this purpose's")
    with tenant_context(organization):
        signup = PendingSignup.objects.create(
            organization=organization,
            purpose=purpose,
            notice=notice,
            email=email,
            first_name=first_name.strip()[:100],
            ip_address=(ip_address or "")[:45],
            user_agent=(user_agent or "")[:1000],
            page=(page or "")[:2000],
            language=language[:8],
        )
        record_event(
            action="consent.signup_received",
            organization=organization,
            details={"purpose": purpose.key, "version": notice.version},
        )
        transaction.on_commit(lambda: _queue_mail(organization.pk, signup.pk))
    return signup


def _queue_mail(organization_id: int, signup_id: int) -> None:
    from consent.tasks import send_signup_confirmation

    send_signup_confirmation.delay(organization_id, signup_id)


def confirm_signup(organization, token: str, *, ip_address: str = "", user_agent: str = "") -> ConsentRecord | None:
    """Confirm a sign-up from its mail link; the ledger row, or None when the link names no
    waiting sign-up (forged, expired, or confirmed already).

    1. lock the sign-up row (a double click confirms once; the second finds it gone);
    2. find the contact by the address's blind index (primary or further address), or
       create one (source: web form);
    3. append "given" with the notice version the form showed, and the evidence of both the
       submission and the confirmation; delete the sign-up; send the welcome mail (with the
       one-click unsubscribe link) after commit."""
    from contacts.models import Contact
    from contacts.selectors import find_contacts_by_email
    from contacts.services.contacts import create_contact

    found = signup_for_token(organization, token)
    if found is None:
        return None
    with tenant_context(organization):
        signup = (
            PendingSignup.objects.select_for_update(of=("self",))
            .filter(organization=organization, pk=found.pk)
            .select_related("purpose", "notice")
            .first()
        )
        if signup is None:
            return None
        email = signup.email
        matches = find_contacts_by_email(organization, email)
        if matches:
            contact = matches[0]
        else:
            contact = create_contact(
                organization=organization,
                actor=None,
                data={
                    "first_name": signup.first_name or email.split("@", 1)[0][:100],
                    "email": email,
                    "source": Contact.Source.WEB_FORM,
                    "source_detail": f"consent form: {signup.purpose.name}"[:200],
                    "preferred_language": signup.language,
                },
            )
        now = timezone.now()
        details = "\n".join(
            line
            for line in (
                f"Double opt-in for purpose {signup.purpose.key!r}, notice version {signup.notice.version} "
                f"(SHA-256 {signup.notice.text_sha256}).",
                f"Form sent {signup.created_at.isoformat()} from {signup.ip_address or 'an unknown address'}"
                f" ({signup.user_agent or 'no user agent'})" + (f" on {signup.page}." if signup.page else "."),
                f"Confirmed from the link mailed to the address at {now.isoformat()}.",
            )
            if line
        )
        record = give_consent(
            organization=organization,
            contact=contact,
            purpose=signup.purpose,
            notice=signup.notice,
            method=ConsentRecord.Method.FORM,
            ip_address=ip_address,
            user_agent=user_agent,
            details=details,
        )
        signup.delete()
        transaction.on_commit(lambda: _queue_welcome(organization.pk, record.pk))
    return record


def _queue_welcome(organization_id: int, record_id: int) -> None:
    from consent.tasks import send_consent_welcome

    send_consent_welcome.delay(organization_id, record_id)


def delete_expired_signups(*, now: datetime.datetime | None = None) -> int:
    """Beat's sweep: sign-ups never confirmed within SIGNUP_VALID go (their link no longer
    works anyway)."""
    from logicnet.tenancy.sweeps import sweep_ids

    now = now or timezone.now()
    found = sweep_ids(
        "logicnet_expired_consent_signups",
        [now - SIGNUP_VALID],
        reason="consent sign-ups never confirmed",
        counted="signups",
    )
    by_organization: dict[int, list[int]] = {}
    for organization_id, signup_id in found:
        by_organization.setdefault(organization_id, []).append(signup_id)
    deleted = 0
    for organization_id, ids in by_organization.items():
        with tenant_context(organization_id):
            count, _per_model = PendingSignup.objects.filter(
                organization_id=organization_id, pk__in=ids, created_at__lte=now - SIGNUP_VALID
            ).delete()
            deleted += count
    return deleted
