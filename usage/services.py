"""Writes of the usage app: cookie choices, usage events, and their retention."""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from logicnet.audit.services import record_event
from logicnet.personal_data.registry import registry
from logicnet.tenancy.context import acting_user, platform_bypass, tenant_context
from logicnet.tenancy.organizations import membership_model
from usage.consent import CookieChoiceValue, new_visitor_id
from usage.features import BY_KEY
from usage.models import CookieChoice, UsageEvent

log = logging.getLogger(__name__)

USER_AGENT_LENGTH = CookieChoice._meta.get_field("user_agent").max_length


def record_cookie_choice(
    *,
    analytics: bool,
    user=None,
    visitor_id: str | None = None,
    ip_address: str | None = None,
    user_agent: str = "",
) -> CookieChoiceValue:
    """Record an answer to the cookie banner and return the value for the choice cookie.

    1. keep the browser's visitor id (a new random one for a first answer);
    2. append the record: notice version, choice, time, and where it came from (proof of
       consent, GDPR Art. 7(1)); against the user when signed in;
    3. on a withdrawal of analytics consent, delete the usage data already recorded about
       the user (Art. 7(3), 17(1)(b)): nothing is kept that the person no longer allows.
    """
    value = CookieChoiceValue(settings.COOKIE_NOTICE_VERSION, analytics, visitor_id or new_visitor_id())
    user = user if user is not None and user.is_authenticated else None
    with transaction.atomic():
        CookieChoice.objects.create(
            visitor_id=value.visitor_id,
            user=user,
            notice_version=value.version,
            analytics=analytics,
            ip_address=ip_address,
            user_agent=(user_agent or "")[:USER_AGENT_LENGTH],
        )
    if user is not None and not analytics:
        forget_usage(user=user)
    return value


def record_choice_for_user(
    *, user, choice: CookieChoiceValue, ip_address: str | None = None, user_agent: str = ""
) -> bool:
    """A browser that answered the banner before signing in: record its answer against the
    user too (once per user, browser and answer), so a signed-in person's consent is proven
    against their account and not only against a random id. True when a record was added."""
    latest = CookieChoice.objects.filter(user=user, visitor_id=choice.visitor_id).order_by("-recorded_at").first()
    if latest is not None and (latest.analytics, latest.notice_version) == (choice.analytics, choice.version):
        return False
    CookieChoice.objects.create(
        visitor_id=choice.visitor_id,
        user=user,
        notice_version=choice.version,
        analytics=choice.analytics,
        ip_address=ip_address,
        user_agent=(user_agent or "")[:USER_AGENT_LENGTH],
    )
    return True


def forget_usage(*, user) -> int:
    """Delete the user's usage events in every organization they belong to, organization by
    organization inside its tenant context (the web role sees no other way in)."""
    deleted = 0
    organization_ids = list(membership_model().objects.filter(user=user).values_list("organization_id", flat=True))
    with acting_user(user):
        for organization_id in organization_ids:
            with tenant_context(organization_id):
                count, _ = UsageEvent.objects.filter(user=user).delete()
                deleted += count
    return deleted


def record_usage(*, organization, user, feature: str, at: datetime | None = None) -> UsageEvent:
    """Append one usage event. The caller has checked the analytics consent
    (usage.consent.analytics_allowed); an unknown feature name is refused, so a URL or an
    id can never be stored in its place."""
    if feature not in BY_KEY:
        raise ValueError(f"unknown feature {feature!r}")
    with acting_user(user), tenant_context(organization):
        return UsageEvent.objects.create(
            organization_id=getattr(organization, "pk", organization),
            user=user,
            feature=feature,
            occurred_at=at or timezone.now(),
        )


def retention_cutoff(rule_key: str, now: datetime | None = None) -> datetime:
    """The date before which data under the registry's retention rule `rule_key` is due."""
    duration = registry.retention[rule_key].duration
    if duration is None:
        raise ValueError(f"the retention rule {rule_key!r} has no duration")
    return (now or timezone.now()) - duration


def sweep_usage_retention(*, now: datetime | None = None) -> dict[str, int]:
    """Beat, daily: apply the retention rules the usage app declares (usage/personal_data.py).

    - usage events older than the `usage_events` rule (13 months): deleted, across
      organizations under one audited platform bypass (beat holds the platform alias);
    - cookie choices: their IP address and browser blanked after the `cookie_choice_device`
      rule (90 days), the records themselves deleted after `cookie_choice`;
    (Session records are the retention sweep's: retention.services.sweep.sweep_platform_tables.)
    """
    now = now or timezone.now()
    with platform_bypass(actor=None, reason="retention of usage data and cookie choices"):
        events, _ = UsageEvent._base_manager.filter(occurred_at__lt=retention_cutoff("usage_events", now)).delete()
    with transaction.atomic():
        blanked = (
            CookieChoice.objects.filter(recorded_at__lt=retention_cutoff("cookie_choice_device", now))
            .exclude(ip_address=None, user_agent="")
            .update(ip_address=None, user_agent="")
        )
        choices, _ = CookieChoice.objects.filter(recorded_at__lt=retention_cutoff("cookie_choice", now)).delete()
        result = {
            "usage_events_deleted": events,
            "cookie_choices_blanked": blanked,
            "cookie_choices_deleted": choices,
        }
        if any(result.values()):
            record_event(action="usage.retention_sweep", details={"count": sum(result.values()), "deleted": result})
    return result
