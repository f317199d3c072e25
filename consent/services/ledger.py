"""Writes to the consent ledger: purposes, notice versions, consent given and withdrawn.

Every write appends; nothing here updates or deletes a ledger row or a published notice
(the database would refuse: consent/migrations/0002_ledger_append_only.py).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from consent.models import ConsentEvidence, ConsentRecord, NoticeVersion, Purpose, notice_digest
from logicnet.audit.services import record_event
from logicnet.tenancy.context import tenant_context

Action = ConsentRecord.Action
Method = ConsentRecord.Method

NOTICE_MAX_LENGTH = 20_000


def _clean_notice(text: str) -> str:
    text = (text or "").strip().replace("\r\n", "\n")
    if not text:
        raise ValidationError({"text": _("Write the notice people agree to.")})
    if len(text) > NOTICE_MAX_LENGTH:
        raise ValidationError({"text": _("The notice is too long.")})
    return text


def create_purpose(*, organization, actor, key: str, name: str, notice_text: str) -> Purpose:
    """A purpose with its first notice version."""
    text = _clean_notice(notice_text)
    with tenant_context(organization):
        if Purpose.objects.filter(organization=organization, key=key).exists():
            raise ValidationError({"key": _("Another purpose has this key.")})
        purpose = Purpose.objects.create(organization=organization, key=key, name=name.strip())
        _append_notice(organization, actor, purpose, text, version=1)
        record_event(
            action="consent.purpose_created",
            actor=actor,
            organization=organization,
            details={"purpose": purpose.key},
        )
    return purpose


def publish_notice(*, organization, actor, purpose: Purpose, text: str) -> NoticeVersion:
    """Publish a new version of the purpose's notice. Consent given to an earlier version
    stays given to that version (the ledger says which); the sign-up form and the
    preference centre show the new one from now on.

    The purpose row is locked so two publications at once get consecutive numbers."""
    text = _clean_notice(text)
    with tenant_context(organization):
        locked = Purpose.objects.select_for_update().get(organization=organization, pk=purpose.pk)
        latest = NoticeVersion.objects.filter(organization=organization, purpose=locked).aggregate(n=Max("version"))
        if latest["n"] is not None:
            current = NoticeVersion.objects.get(organization=organization, purpose=locked, version=latest["n"])
            if current.text == text:
                raise ValidationError({"text": _("This is the text of the current version already.")})
        notice = _append_notice(organization, actor, locked, text, version=(latest["n"] or 0) + 1)
        record_event(
            action="consent.notice_published",
            actor=actor,
            organization=organization,
            details={"purpose": locked.key, "version": notice.version},
        )
    return notice


def _append_notice(organization, actor, purpose: Purpose, text: str, *, version: int) -> NoticeVersion:
    return NoticeVersion.objects.create(
        organization=organization,
        purpose=purpose,
        version=version,
        text=text,
        text_sha256=notice_digest(text),
        published_by=actor,
    )


def set_purpose_offered(*, organization, actor, purpose: Purpose, offered: bool) -> None:
    """Stop (or resume) offering a purpose on the forms; its ledger stays."""
    with tenant_context(organization):
        Purpose.objects.filter(organization=organization, pk=purpose.pk).update(is_active=offered)
        record_event(
            action="consent.purpose_offered" if offered else "consent.purpose_withdrawn",
            actor=actor,
            organization=organization,
            details={"purpose": purpose.key},
        )


def current_notice(purpose: Purpose) -> NoticeVersion:
    with tenant_context(purpose.organization_id):
        return NoticeVersion.objects.filter(organization_id=purpose.organization_id, purpose=purpose).latest("version")


def record_consent(
    *,
    organization,
    contact,
    purpose: Purpose,
    action: str,
    method: str,
    actor=None,
    notice: NoticeVersion | None = None,
    ip_address: str = "",
    user_agent: str = "",
    details: str = "",
    when_changed: bool = False,
) -> ConsentRecord | None:
    """Append one ledger row (and its evidence) for `contact` and `purpose`.

    1. lock the contact row, so two recordings for the same person (a double click on
       "unsubscribe", the mail client's one-click and the person's own click) are serialized;
    2. the notice: the one given, else for consent given the purpose's current version, and
       for a withdrawal the version of the consent being withdrawn (the current one if none);
    3. `when_changed`: record nothing when the status is already `action` (one-click links
       and the preference centre can be used any number of times); a withdrawal with no
       earlier record is recorded (the person said no);
    4. append the row and its evidence, audit without personal values.
    Returns the row, or None when nothing was recorded."""
    from contacts.models import Contact

    if action not in Action.values or method not in Method.values:
        raise ValueError(f"unknown consent action {action!r} or method {method!r}")
    with tenant_context(organization):
        Contact.objects.select_for_update().filter(organization=organization, pk=contact.pk).first()
        latest = (
            ConsentRecord.objects.filter(organization=organization, contact_id=contact.pk, purpose=purpose)
            .order_by("-recorded_at", "-id")
            .first()
        )
        # A withdrawal with nothing given before is still recorded: the person said no.
        if when_changed and latest is not None and latest.action == action:
            return None
        if notice is None:
            if action == Action.WITHDRAWN and latest is not None:
                notice = latest.notice
            else:
                notice = NoticeVersion.objects.filter(organization=organization, purpose=purpose).latest("version")
        elif notice.purpose_id != purpose.pk:
            raise ValueError("the notice version is not one of this purpose's")
        record = ConsentRecord.objects.create(
            organization=organization,
            contact_id=contact.pk,
            purpose=purpose,
            notice=notice,
            action=action,
            method=method,
            recorded_at=timezone.now(),
            recorded_by=actor,
        )
        if ip_address or user_agent or details:
            ConsentEvidence.objects.create(
                organization=organization,
                record=record,
                ip_address=(ip_address or "")[:45],
                user_agent=(user_agent or "")[:1000],
                details=details or "",
            )
        record_event(
            action=f"consent.{action}",
            actor=actor,
            organization=organization,
            target=contact,
            details={"purpose": purpose.key, "version": notice.version, "method": method, "record": record.pk},
        )
    return record


def give_consent(**kwargs) -> ConsentRecord | None:
    return record_consent(action=Action.GIVEN, **kwargs)


def withdraw_consent(**kwargs) -> ConsentRecord | None:
    return record_consent(action=Action.WITHDRAWN, **kwargs)


def record_by_staff(*, organization, actor, contact, purpose: Purpose, action: str, note: str) -> ConsentRecord:
    """A staff member records what the person said (by phone, in a letter, at a desk), with
    a note as the evidence. Withdrawal is always possible; giving is refused for a contact
    whose processing is restricted (Art. 18: stored, not processed)."""
    from contacts.services.contacts import check_not_restricted

    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": _("Say how the person told you: it is the evidence.")})
    if action == Action.GIVEN:
        check_not_restricted(contact)
    return record_consent(
        organization=organization,
        contact=contact,
        purpose=purpose,
        action=action,
        method=Method.STAFF,
        actor=actor,
        details=note,
    )


def carry_consent_on_merge(*, organization, survivor, duplicate, actor=None) -> int:
    """Two contacts were merged (contacts.services.merge, inside its transaction): the
    duplicate's consent history follows the survivor, without rewriting the ledger.

    1. each of the duplicate's ledger rows is appended again for the survivor, with its own
       purpose, notice version, action, method, time and author, and `carried_from` naming
       the original (which stays as it is, naming the duplicate's id: the proof as recorded);
       keeping the original times means the survivor's status is the newest decision of
       either contact, per purpose;
    2. the evidence (IP address, user agent, note) moves with it: copied to the new row and
       deleted from the original, so that erasing the survivor later finds all of it;
    3. one audit event with the count.
    Returns the number of rows appended."""
    with tenant_context(organization):
        originals = list(
            ConsentRecord.objects.filter(organization=organization, contact_id=duplicate.pk)
            .select_related("evidence")
            .order_by("recorded_at", "id")
        )
        if not originals:
            return 0
        # A merge repeated after a crash must not append twice.
        done = set(
            ConsentRecord.objects.filter(
                organization=organization, contact_id=survivor.pk, carried_from__in=[r.pk for r in originals]
            ).values_list("carried_from", flat=True)
        )
        carried = 0
        for original in originals:
            if original.pk in done:
                continue
            copy = ConsentRecord.objects.create(
                organization=organization,
                contact_id=survivor.pk,
                purpose_id=original.purpose_id,
                notice_id=original.notice_id,
                action=original.action,
                method=original.method,
                recorded_at=original.recorded_at,
                recorded_by_id=original.recorded_by_id,
                carried_from=original.pk,
            )
            evidence = getattr(original, "evidence", None)
            if evidence is not None:
                ConsentEvidence.objects.create(
                    organization=organization,
                    record=copy,
                    ip_address=evidence.ip_address,
                    user_agent=evidence.user_agent,
                    details=evidence.details,
                )
                ConsentEvidence.objects.filter(organization=organization, pk=evidence.pk).delete()
            carried += 1
        record_event(
            action="consent.carried_on_merge",
            actor=actor,
            organization=organization,
            target=survivor,
            details={"duplicate_id": duplicate.pk, "carried": carried},
        )
    return carried
