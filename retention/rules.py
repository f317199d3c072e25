"""The retention rules as they apply to one organization: the registry's rules
(logicnet/personal_data/policy.py) with the organization's own periods where it may set them.

Nothing here lists a model or a period of its own: which tables a rule ages is the rule's
`applies_to` or, without one, the models classified under the rule that carry its anchor
field; what happens to a row is the rule's action; which fields are emptied is what the
registry classifies under the rule.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.apps import apps
from django.conf import settings
from django.db import models

from logicnet.personal_data.registry import RetentionRule, registry
from logicnet.tenancy.context import tenant_context

# Rules kept by sweeps of their own, outside the database's tenant tables: shown on the
# retention page with where they are enforced, never swept a second time here.
ENFORCED_ELSEWHERE = {
    "security_log": "audit.drop_expired_audit_events",
    "data_package": "privacy.delete_expired_packages, accounts.sweep_account_privacy",
    "export_file": "accounts.delete_expired_exports",
    "crm_export_file": "exports.delete_expired_exports",
    "usage_events": "usage.sweep_usage_retention",
    "cookie_choice": "usage.sweep_usage_retention",
    "cookie_choice_device": "usage.sweep_usage_retention",
}


def has_organization(model) -> bool:
    return any(f.name == "organization" and f.is_relation for f in model._meta.concrete_fields)


def rule_models(rule: RetentionRule) -> list[type[models.Model]]:
    """Every model whose rows the rule ages (tenant or not)."""
    if rule.applies_to:
        return [apps.get_model(label) for label in rule.applies_to]
    if not rule.anchor:
        return []
    found = []
    for label in registry.classified_models():
        try:
            model = apps.get_model(label)
        except LookupError:
            continue
        if not any(r.personal and r.retention == rule.key for r in registry.rules_for(model).values()):
            continue
        if any(f.name == rule.anchor for f in model._meta.concrete_fields):
            found.append(model)
    return found


def tenant_models(rule: RetentionRule) -> list[type[models.Model]]:
    """The models the organization-by-organization sweep handles for the rule: tenant
    tables readable by the application (the audit log is the platform's)."""
    return [
        model
        for model in rule_models(rule)
        if has_organization(model) and not (registry.entry_for(model) and registry.entry_for(model).platform_only)
    ]


def platform_models(rule: RetentionRule) -> list[type[models.Model]]:
    """The tables the rule ages that belong to no organization (an account holder's
    sessions, email confirmations): swept once a night by the platform, not per organization."""
    if rule.key in ENFORCED_ELSEWHERE or rule.duration is None:
        return []
    return [model for model in rule_models(rule) if not has_organization(model)]


@dataclass
class AppliedRule:
    """A registry rule for one organization: its period (None: not swept), whether the
    organization set it, and the tables it ages."""

    rule: RetentionRule
    period: datetime.timedelta | None
    overridden: bool = False
    models: list[type[models.Model]] = field(default_factory=list)

    @property
    def key(self) -> str:
        return self.rule.key

    @property
    def action(self) -> str:
        return self.rule.action

    @property
    def sweeps(self) -> bool:
        return self.period is not None and bool(self.models)

    @property
    def period_days(self) -> int | None:
        return None if self.period is None else max(1, round(self.period.total_seconds() / 86400))

    def cutoff(self, now: datetime.datetime) -> datetime.datetime:
        return now - self.period


def overrides_of(organization_id: int) -> dict[str, int | None]:
    from retention.models import RetentionOverride

    with tenant_context(organization_id):
        return dict(RetentionOverride.objects.values_list("rule", "period_days"))


def applied_rules(organization_id: int) -> list[AppliedRule]:
    """The rules the organization's sweep runs, in the registry's order: those with tenant
    tables to age. Overrides of rules that are not (or no longer) overridable are ignored."""
    overrides = overrides_of(organization_id)
    found = []
    for rule in registry.retention.values():
        tables = tenant_models(rule)
        if not tables or rule.key in ENFORCED_ELSEWHERE:
            continue
        period, overridden = rule.duration, False
        if rule.overridable and rule.key in overrides:
            days = overrides[rule.key]
            period = rule.effective_duration(datetime.timedelta(days=days)) if days is not None else None
            overridden = True
        found.append(AppliedRule(rule, period, overridden, tables))
    return found


def overridable_rules() -> list[RetentionRule]:
    return [rule for rule in registry.retention.values() if rule.overridable and tenant_models(rule)]


def enforced_elsewhere() -> list[tuple[RetentionRule, str]]:
    """(rule, what enforces it) for the rules kept by their own sweeps, with the security
    log's period as the audit log's retention setting says."""
    return [(registry.retention[key], where) for key, where in ENFORCED_ELSEWHERE.items() if key in registry.retention]


def audit_retention_days() -> int:
    return round(settings.AUDIT_RETENTION_MONTHS * 365.25 / 12)
