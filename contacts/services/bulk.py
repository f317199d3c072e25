"""Bulk actions on contacts: tag, untag, change owner, change status, delete.

Contacts whose processing is restricted (GDPR Art. 18) are skipped: they are stored, not
processed, until the privacy desk lifts the restriction.

Each runs in one transaction over a selection the caller has already narrowed to the
contacts the user may see, walking it in batches of BATCH_SIZE ids (keyset on id), so a
selection of every match of a filter at a million rows never loads a million objects. Only
plain columns change (owner, status, tags), so QuerySet.update is safe here: encrypted
columns cannot be written that way and are left untouched. Each batch writes one audit row
naming the changed contact ids (no personal data).
"""

from __future__ import annotations

from collections.abc import Iterator

from django.core.exceptions import ValidationError
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership, Organization, User
from contacts.models import Contact, ContactTag, Tag
from logicnet.audit.services import record_batch_event
from logicnet.tenancy.context import tenant_context

BATCH_SIZE = 1000


def _batches(selection: QuerySet[Contact]) -> Iterator[list[int]]:
    last = 0
    while True:
        ids = list(selection.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:BATCH_SIZE])
        if not ids:
            return
        yield ids
        last = ids[-1]


def _touch(organization: Organization, actor: User | None, ids: list[int], **changes) -> None:
    """Change plain columns and mark the rows as changed: an edit form open on one of them
    must see that its version is stale."""
    Contact.objects.filter(organization=organization, pk__in=ids).update(
        updated_at=timezone.now(), updated_by=actor, version=F("version") + 1, **changes
    )


def _check_selection(organization: Organization, selection: QuerySet[Contact]) -> QuerySet[Contact]:
    # Contacts whose processing is restricted (GDPR Art. 18) are left out of every bulk action.
    return selection.filter(organization=organization, restricted_at__isnull=True)


def _audit(action: str, organization: Organization, actor: User | None, ids: list[int], **details) -> None:
    record_batch_event(
        action=action, actor=actor, organization=organization, target_type="contact", ids=ids, details=details
    )


def tag_contacts(*, organization: Organization, actor: User | None, selection: QuerySet[Contact], tag: Tag) -> int:
    """Add `tag` to every selected contact that lacks it; returns how many got it."""
    if tag.organization_id != organization.pk:
        raise ValidationError(_("This tag belongs to another organization."))
    changed = 0
    with tenant_context(organization):
        for ids in _batches(_check_selection(organization, selection)):
            having = set(
                ContactTag.objects.filter(organization=organization, tag=tag, contact_id__in=ids).values_list(
                    "contact_id", flat=True
                )
            )
            new = [pk for pk in ids if pk not in having]
            ContactTag.objects.bulk_create(
                [ContactTag(organization=organization, contact_id=pk, tag=tag) for pk in new], ignore_conflicts=True
            )
            if new:
                _touch(organization, actor, new)
            _audit("contact.bulk_tagged", organization, actor, new, tag=tag.pk)
            changed += len(new)
    return changed


def untag_contacts(*, organization: Organization, actor: User | None, selection: QuerySet[Contact], tag: Tag) -> int:
    if tag.organization_id != organization.pk:
        raise ValidationError(_("This tag belongs to another organization."))
    changed = 0
    with tenant_context(organization):
        for ids in _batches(_check_selection(organization, selection)):
            links = ContactTag.objects.filter(organization=organization, tag=tag, contact_id__in=ids)
            having = sorted(links.values_list("contact_id", flat=True))
            links.delete()
            if having:
                _touch(organization, actor, having)
            _audit("contact.bulk_untagged", organization, actor, having, tag=tag.pk)
            changed += len(having)
    return changed


def change_contacts_owner(
    *, organization: Organization, actor: User | None, selection: QuerySet[Contact], owner: User | None
) -> int:
    """Give the selected contacts to `owner` (a member of the organization) or to nobody."""
    if owner is not None and not Membership.objects.filter(organization=organization, user=owner).exists():
        raise ValidationError(_("The new owner must be a member of the organization."))
    changed = 0
    with tenant_context(organization):
        # With "own" visibility a contact leaves the selection once it changes hands; the
        # walk is by id and only ever looks past the last batch, so none is skipped.
        for ids in _batches(_check_selection(organization, selection)):
            rows = Contact.objects.filter(organization=organization, pk__in=ids)
            rows = rows.exclude(owner=owner) if owner is not None else rows.exclude(owner__isnull=True)
            moving = sorted(rows.values_list("pk", flat=True))
            if moving:
                _touch(organization, actor, moving, owner=owner)
            _audit("contact.bulk_owner_changed", organization, actor, moving, owner=owner.pk if owner else None)
            changed += len(moving)
    return changed


def change_contacts_status(
    *, organization: Organization, actor: User | None, selection: QuerySet[Contact], status: str
) -> int:
    if status not in Contact.Status.values:
        raise ValidationError(_("Choose a valid status."))
    changed = 0
    with tenant_context(organization):
        for ids in _batches(_check_selection(organization, selection)):
            moving = sorted(
                Contact.objects.filter(organization=organization, pk__in=ids)
                .exclude(status=status)
                .values_list("pk", flat=True)
            )
            if moving:
                _touch(organization, actor, moving, status=status)
            _audit("contact.bulk_status_changed", organization, actor, moving, status=status)
            changed += len(moving)
    return changed


def delete_contacts(*, organization: Organization, actor: User | None, selection: QuerySet[Contact]) -> int:
    """Delete the selected contacts with their emails, phones, addresses, tags, shares,
    participations and tasks (the foreign keys cascade)."""
    deleted = 0
    with tenant_context(organization):
        for ids in _batches(_check_selection(organization, selection)):
            Contact.objects.filter(organization=organization, pk__in=ids).delete()
            _audit("contact.bulk_deleted", organization, actor, ids)
            deleted += len(ids)
    return deleted
