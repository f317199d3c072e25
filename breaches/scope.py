"""Which organizations and people an incident touches: organizations x categories x period.

The organizations come from the incident (named, or every active one), read by the platform.
The people and records are counted per organization, inside its tenant context (a job per
organization, breaches/jobs.py), with COUNT queries only: no personal value is read. Which
kinds of people a category touches is the registry's answer (logicnet/personal_data), so a
category added there is in scope here without a change.
"""

from __future__ import annotations

from datetime import datetime

from django.apps import apps
from django.db.models import Q
from django.utils import timezone

from accounts.models import Membership, Organization
from contacts.models import Contact
from logicnet.personal_data.registry import registry
from logicnet.tenancy.rls import rls_models

CONTACT_KIND = "contact"
USER_KIND = "user"


def organization_ids_in_scope(incident) -> list[int]:
    """The active organizations the incident names (or all of them); platform reads."""
    organizations = Organization.objects.filter(is_active=True)
    if not incident.all_organizations:
        organizations = organizations.filter(pk__in=[int(pk) for pk in incident.organization_ids])
    return list(organizations.order_by("pk").values_list("pk", flat=True))


def _personal_rules(model, categories: set[str]):
    return [rule for rule in registry.rules_for(model).values() if rule.personal and rule.category in categories]


def kinds_touched(categories) -> set[str]:
    """The kinds of data subject ("contact", "user", ...) whose data falls in the categories."""
    wanted = set(categories)
    kinds: set[str] = set()
    for label in registry.classified_models():
        for rule in _personal_rules(apps.get_model(label), wanted):
            kinds.update(subject.kind for subject in rule.subjects)
    return kinds


def _period(model, start: datetime | None, end: datetime | None) -> Q:
    """Rows created or changed in the period (a model without those dates: every row)."""
    names = {f.name for f in model._meta.concrete_fields}
    condition = Q()
    for name in ("created_at", "updated_at"):
        if name in names:
            bounds = {}
            if start is not None:
                bounds[f"{name}__gte"] = start
            if end is not None:
                bounds[f"{name}__lte"] = end
            condition |= Q(**bounds)
    return condition


def contacts_in_scope(*, organization_id: int, start: datetime | None, end: datetime | None):
    """The organization's contacts created or updated in the period; inside its tenant context."""
    return Contact.objects.filter(_period(Contact, start, end), organization_id=organization_id)


def users_in_scope(*, organization_id: int, end: datetime | None):
    """The ids of the organization's team members who had joined by the end of the period."""
    return Membership.objects.filter(
        organization_id=organization_id, created_at__lte=end or timezone.now()
    ).values_list("user_id", flat=True)


def scope_counts(*, organization_id: int, categories, start: datetime | None, end: datetime | None) -> dict:
    """People and records of one organization the incident touches; call inside its tenant
    context. Counts only."""
    wanted = set(categories)
    kinds = kinds_touched(wanted)
    contacts = (
        contacts_in_scope(organization_id=organization_id, start=start, end=end).count() if CONTACT_KIND in kinds else 0
    )
    users = users_in_scope(organization_id=organization_id, end=end).count() if USER_KIND in kinds else 0
    records = 0
    for model in rls_models():
        if model._meta.app_label == "breaches" or not _personal_rules(model, wanted):
            continue
        records += model._base_manager.filter(_period(model, start, end), organization_id=organization_id).count()
    return {"contacts": contacts, "users": users, "records": records}
