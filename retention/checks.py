"""The security log's rule in the registry and the audit log's own retention setting must
say the same period: the audit log drops whole months behind a checkpoint
(logicnet/audit/services.py), so the registry's two years are AUDIT_RETENTION_MONTHS = 24."""

from django.core import checks


@checks.register()
def security_log_retention_matches_the_audit_log(app_configs, **kwargs):
    from logicnet.personal_data.registry import registry
    from retention.rules import audit_retention_days

    rule = registry.retention.get("security_log")
    if rule is None or rule.duration is None:
        return []
    if abs(audit_retention_days() - rule.duration.days) > 31:
        return [
            checks.Warning(
                f"AUDIT_RETENTION_MONTHS keeps the audit log {audit_retention_days()} days, but the registry's "
                f"security_log rule says {rule.duration.days} days",
                hint="Set AUDIT_RETENTION_MONTHS to the rule's period (24 for two years), or change the rule.",
                id="retention.W001",
            )
        ]
    return []
