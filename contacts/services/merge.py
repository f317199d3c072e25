"""Merging two contacts that are the same person into one."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Organization, User
from activity.models import InteractionParticipant, Task
from contacts.models import Contact, ContactAddress, ContactEmail, ContactPhone, ContactShare, ContactTag
from contacts.services.contacts import STALE_MESSAGE, _full_clean, _save, check_not_restricted, is_minor
from logicnet.audit.services import record_event
from logicnet.personal_data.registry import registry
from logicnet.tenancy.context import tenant_context
from logicnet.tenancy.rls import APPEND_ONLY_TABLES

# Field groups chosen as one: an email goes with its label, a source with its detail and date.
MERGE_FIELDS: dict[str, tuple[str, ...]] = {
    "first_name": ("first_name",),
    "last_name": ("last_name",),
    "email": ("email", "email_label"),
    "phone": ("phone", "phone_label"),
    "job_title": ("job_title",),
    "company": ("company",),
    "owner": ("owner",),
    "status": ("status",),
    "date_of_birth": ("date_of_birth",),
    "preferred_language": ("preferred_language",),
    "source": ("source", "source_detail", "source_date"),
    "notes": ("notes",),
}
MERGE_LABELS = {
    "first_name": gettext_lazy("First name"),
    "last_name": gettext_lazy("Last name"),
    "email": gettext_lazy("Email address"),
    "phone": gettext_lazy("Phone"),
    "job_title": gettext_lazy("Job title"),
    "company": gettext_lazy("Company"),
    "owner": gettext_lazy("Owner"),
    "status": gettext_lazy("Lifecycle status"),
    "date_of_birth": gettext_lazy("Date of birth"),
    "preferred_language": gettext_lazy("Preferred language"),
    "source": gettext_lazy("Source"),
    "notes": gettext_lazy("Notes"),
}
SURVIVOR, DUPLICATE = "survivor", "duplicate"
# A custom field's choice is keyed by its form name ("cf_<key>", contacts/custom_fields.py).
CUSTOM_PREFIX = "cf_"

# Relations handled one by one below; any other foreign key to Contact (added by a later
# feature) is repointed to the survivor generically, so a merge never leaves it dangling.
HANDLED_RELATIONS = {
    ContactEmail,
    ContactPhone,
    ContactAddress,
    ContactTag,
    ContactShare,
    InteractionParticipant,
    Task,
}
# Kept equal to the contact's own name tokens by a trigger; they go with the deleted row.
DERIVED_RELATIONS = {"name_token_rows"}


def _lock_pair(organization: Organization, survivor: Contact, duplicate: Contact) -> tuple[Contact, Contact]:
    if survivor.pk == duplicate.pk:
        raise ValidationError(_("A contact cannot be merged with itself."))
    # Locked in id order so two merges of the same pair cannot deadlock.
    rows = {
        c.pk: c
        for c in Contact.objects.select_for_update()
        .filter(organization=organization, pk__in=[survivor.pk, duplicate.pk])
        .order_by("pk")
    }
    if len(rows) != 2:
        raise ValidationError(_("One of these contacts no longer exists."))
    return rows[survivor.pk], rows[duplicate.pk]


def _move_extras(model, index: str, organization: Organization, keep: Contact, gone: Contact) -> None:
    """The duplicate's further emails (or phones) move; one the survivor already has, as a
    further one or as its primary, is dropped."""
    have = set(model.objects.filter(organization=organization, contact=keep).values_list(index, flat=True))
    have.add(getattr(keep, index))
    theirs = model.objects.filter(organization=organization, contact=gone)
    theirs.filter(**{f"{index}__in": have - {""}}).delete()
    theirs.update(contact=keep)


def _keep_losing_primary(model, field: str, index: str, organization: Organization, keep: Contact, losing) -> None:
    """After the survivor has its final primary: drop further ones equal to it, and keep the
    primary that lost the choice as a further one."""
    value, label, digest = losing
    extras = model.objects.filter(organization=organization, contact=keep)
    primary = getattr(keep, index)
    if primary:
        extras.filter(**{index: primary}).delete()
    if not value or digest == primary or extras.filter(**{index: digest}).exists():
        return
    if model is ContactEmail and ContactEmail.objects.filter(organization=organization, email_index=digest).exists():
        # A third contact lists this address; the constraint allows it once per organization.
        raise ValidationError(_("Another contact also has the email address that would be kept; merge that one first."))
    model(organization=organization, contact=keep, label=label, **{field: value}).save(force_insert=True)


def _move_unique(model, organization: Organization, keep: Contact, gone: Contact, other: str) -> None:
    """Rows unique on (contact, `other`): move those the survivor lacks, drop the rest."""
    already = model.objects.filter(organization=organization, contact=keep, **{other: OuterRef(other)})
    theirs = model.objects.filter(organization=organization, contact=gone)
    theirs.filter(Exists(already)).delete()
    theirs.update(contact=keep)


def _move_other_relations(organization: Organization, keep: Contact, gone: Contact, actor: User | None) -> dict:
    """Repoint every other reference to the duplicate; returns what ledgers carried over."""
    carried = {}
    for relation in Contact._meta.related_objects:
        if relation.many_to_many or relation.related_model in HANDLED_RELATIONS:
            continue
        if relation.get_accessor_name() in DERIVED_RELATIONS:
            continue
        if relation.related_model._meta.db_table in APPEND_ONLY_TABLES:
            # A ledger (consent) is never rewritten: its rows keep naming the duplicate's id
            # as the proof they are. The app that owns it appends copies for the survivor
            # (the registry's merge carrier), so the survivor's status follows both.
            label = relation.related_model._meta.label_lower
            carry = registry.merge_carriers.get(label)
            if carry is not None:
                carried[label] = carry(organization=organization, survivor=keep, duplicate=gone, actor=actor)
            continue
        manager = relation.related_model._default_manager
        manager.filter(**{relation.field.name: gone}).update(**{relation.field.name: keep})
    return carried


def _merged_custom(keep: Contact, gone: Contact, taken_from_duplicate: list[str]) -> tuple[dict, dict]:
    """The survivor's (custom, custom_personal): its own values, the duplicate's where it has
    none, and the duplicate's (or none, when the duplicate has none) for each custom field
    taken from it. A key lives in one of the two columns, as its definition says; the
    duplicate's column is where its value comes from."""
    theirs = (gone.custom or {}), (gone.custom_personal or {})
    merged = [
        {**their, **(mine or {})} for their, mine in zip(theirs, (keep.custom, keep.custom_personal), strict=True)
    ]
    for name in taken_from_duplicate:
        if not name.startswith(CUSTOM_PREFIX):
            continue
        key = name.removeprefix(CUSTOM_PREFIX)
        for values, their in zip(merged, theirs, strict=True):
            if key in their:
                values[key] = their[key]
            else:
                values.pop(key, None)
    return merged[0], merged[1]


def merge_contacts(
    *,
    organization: Organization,
    actor: User | None,
    survivor: Contact,
    duplicate: Contact,
    choices: dict[str, str],
    expected_versions: tuple[int, int] | None = None,
) -> Contact:
    """Fold `duplicate` into `survivor`, in one transaction.

    1. lock both rows (id order) and refuse when either changed since the merge page opened;
    2. read every value of both (decrypted) and pick per field group: `choices[field]` is
       "survivor" (the default) or "duplicate"; a custom field is chosen by its form name
       (`choices["cf_<key>"]`), and one not chosen keeps the survivor's value, or the
       duplicate's when the survivor has none;
    3. move the duplicate's emails, phones and addresses, tags, shares, interactions
       (participations the survivor already has are dropped: one row per interaction and
       contact), tasks and any other reference to it; delete the duplicate;
    4. save the survivor with the chosen values (its email is free only now that the
       duplicate is gone), the losing primary email and phone kept as further ones;
    5. audit "contact.merged" with both ids and which fields came from the duplicate.
    """
    unknown = {name for name in choices if name not in MERGE_FIELDS and not name.startswith(CUSTOM_PREFIX)}
    if unknown or set(choices.values()) - {SURVIVOR, DUPLICATE}:
        raise ValueError(f"bad merge choices: {choices!r}")
    with tenant_context(organization):
        keep, gone = _lock_pair(organization, survivor, duplicate)
        if expected_versions is not None and (keep.version, gone.version) != tuple(expected_versions):
            raise ValidationError(STALE_MESSAGE, code="stale")
        check_not_restricted(keep)
        check_not_restricted(gone)
        taken_from_duplicate = sorted(f for f, side in choices.items() if side == DUPLICATE)
        values: dict[str, Any] = {}
        for group in (f for f in taken_from_duplicate if f in MERGE_FIELDS):
            for name in MERGE_FIELDS[group]:
                values[name] = getattr(gone, name)
        # The primary email and phone that lose the choice are kept as further ones.
        loser = {f: (keep if f in taken_from_duplicate else gone) for f in ("email", "phone")}
        losing_email = (loser["email"].email, loser["email"].email_label, loser["email"].email_index)
        losing_phone = (loser["phone"].phone, loser["phone"].phone_label, loser["phone"].phone_index)
        custom, custom_personal = _merged_custom(keep, gone, taken_from_duplicate)
        for name in [f.attname for f in Contact._meta.concrete_fields]:
            getattr(keep, name)  # decrypt everything now: the row is saved whole below

        _move_unique(ContactTag, organization, keep, gone, "tag")
        _move_unique(ContactShare, organization, keep, gone, "user")
        _move_unique(InteractionParticipant, organization, keep, gone, "interaction")
        Task.objects.filter(organization=organization, contact=gone).update(contact=keep)
        ContactAddress.objects.filter(organization=organization, contact=gone).update(contact=keep)
        carried = _move_other_relations(organization, keep, gone, actor)
        # The duplicate's own further emails and phones move before it is deleted; the
        # losing primaries are added after the survivor has its final primary values.
        _move_extras(ContactEmail, "email_index", organization, keep, gone)
        _move_extras(ContactPhone, "phone_index", organization, keep, gone)
        gone.delete()

        for name, value in values.items():
            setattr(keep, name, value)
        keep.custom, keep.custom_personal = custom, custom_personal or None
        keep.is_minor = is_minor(keep.date_of_birth)
        keep.updated_by = actor
        keep.updated_at = timezone.now()
        keep.version += 1
        _full_clean(keep)
        _save(keep)
        _keep_losing_primary(ContactEmail, "email", "email_index", organization, keep, losing_email)
        _keep_losing_primary(ContactPhone, "phone", "phone_index", organization, keep, losing_phone)
        record_event(
            action="contact.merged",
            actor=actor,
            organization=organization,
            target=keep,
            details={
                "survivor_id": keep.pk,
                "duplicate_id": duplicate.pk,
                "fields_from_duplicate": taken_from_duplicate,
                "ledger_rows_carried": carried,
            },
        )
    return keep
