"""What an organization's plan allows, enforced in the services.

`effective_plan(organization)` is the one answer: unlimited when billing is off (no Stripe
keys), otherwise the subscription's plan while it is trialing, active or past due within the
grace period, and the default (free) plan without a subscription or once a canceled one's
grace period has ended. Past due beyond the grace period the organization is read-only:
`role_limit` caps every member's role to read-only (TENANCY_ROLE_LIMITS, applied where the
actor's role is decided) and the checks below refuse every addition. Nothing is deleted.

The checks raise PlanLimitReached (a ValidationError: forms show it as the form's error) with
a message that says what to do, and carry `upgrade=True` for pages that link to billing:
- `check_seats(organization, adding=1)`: members plus pending invitations;
- `check_contacts(organization, adding=n)`: before creating or importing n contacts;
- `check_feature(organization, feature)`: at a feature's entry point ("marketing", "api").
"""

from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from logicnet.tenancy.context import tenant_context
from logicnet.tenancy.roles import Role

FEATURES = {"marketing": gettext_lazy("Marketing campaigns"), "api": gettext_lazy("The API")}


class PlanLimitReached(ValidationError):
    """A plan limit refused the change. `upgrade`: a higher plan would allow it."""

    def __init__(self, message: str, *, code: str, upgrade: bool = True):
        super().__init__(message, code=code)
        self.upgrade = upgrade


@dataclass(frozen=True)
class EffectivePlan:
    """The limits in force now. `None` limits are unlimited."""

    key: str
    name: str
    seats: int | None
    contacts: int | None
    features: frozenset[str] = field(default_factory=frozenset)
    read_only: bool = False
    unlimited: bool = False
    grace_ends_at: datetime.datetime | None = None

    def includes(self, feature: str) -> bool:
        return self.unlimited or feature in self.features


UNLIMITED = EffectivePlan(
    key="unlimited",
    name=gettext_lazy("Unlimited"),
    seats=None,
    contacts=None,
    features=frozenset(FEATURES),
    unlimited=True,
)


def billing_enabled() -> bool:
    return bool(settings.BILLING_ENABLED)


def _from_plan(plan, **extra) -> EffectivePlan:
    return EffectivePlan(
        key=plan.key,
        name=plan.name,
        seats=plan.seats,
        contacts=plan.contacts,
        features=frozenset(plan.features or []),
        **extra,
    )


def grace_period() -> datetime.timedelta:
    return datetime.timedelta(days=settings.BILLING_GRACE_DAYS)


def plan_of(subscription, default_plan, *, now: datetime.datetime | None = None) -> EffectivePlan:
    """The limits a subscription gives at `now` (the state machine's reading side)."""
    from billing.models import Subscription

    now = now or timezone.now()
    if subscription is None or subscription.status == Subscription.Status.NONE:
        return _from_plan(default_plan)
    status = subscription.status
    if status in (Subscription.Status.TRIALING, Subscription.Status.ACTIVE):
        return _from_plan(subscription.plan)
    if status == Subscription.Status.PAST_DUE:
        ends = (subscription.past_due_since or now) + grace_period()
        return _from_plan(subscription.plan, read_only=now >= ends, grace_ends_at=ends)
    # Canceled: the paid plan until the grace period ends, then the default plan. Data above
    # the default plan's limits stays; only additions are refused.
    ends = (subscription.canceled_at or now) + grace_period()
    if now < ends:
        return _from_plan(subscription.plan, grace_ends_at=ends)
    return _from_plan(default_plan)


def effective_plan(organization) -> EffectivePlan:
    if not billing_enabled():
        return UNLIMITED
    from billing.models import Plan, Subscription

    with tenant_context(organization):
        subscription = Subscription.objects.select_related("plan").filter(organization=organization).first()
    default = Plan.objects.filter(is_default=True).first()
    if default is None:  # no plans loaded: never lock anyone out for want of data
        return UNLIMITED
    return plan_of(subscription, default)


def role_limit(organization) -> str | None:
    """TENANCY_ROLE_LIMITS rule: read-only for everyone while payment is overdue past the
    grace period; the billing page (beyond_role_limits) stays open to pay."""
    if not billing_enabled():
        return None
    return Role.READ_ONLY if effective_plan(organization).read_only else None


def _refuse_read_only(plan: EffectivePlan) -> None:
    if plan.read_only:
        raise PlanLimitReached(
            _(
                "Your organization is read-only because a payment is overdue. Nothing has been deleted: "
                "an owner or admin can pay on the Billing page to continue."
            ),
            code="read_only",
        )


def seats_used(organization) -> int:
    """Members plus pending invitations (each will take a seat when accepted)."""
    from accounts.models import Invitation, Membership

    members = Membership.objects.filter(organization=organization).count()
    with tenant_context(organization):
        pending = Invitation.objects.filter(
            organization=organization, accepted_at__isnull=True, revoked_at__isnull=True
        ).count()
    return members + pending


def members_count(organization) -> int:
    from accounts.models import Membership

    return Membership.objects.filter(organization=organization).count()


def check_seats(organization, adding: int = 1, *, counting_invitations: bool = True) -> None:
    """Refuse when `adding` more seats would pass the plan's. Invitations count as seats when
    sent (`counting_invitations`); accepting one counts the members only (its seat was
    counted when it was sent, but the plan may have shrunk since)."""
    plan = effective_plan(organization)
    _refuse_read_only(plan)
    if plan.seats is None:
        return
    used = seats_used(organization) if counting_invitations else members_count(organization)
    if used + adding > plan.seats:
        raise PlanLimitReached(
            _(
                "Your %(plan)s plan includes %(seats)d seats and %(used)d are taken (members and pending "
                "invitations). Upgrade your plan on the Billing page to add more people."
            )
            % {"plan": plan.name, "seats": plan.seats, "used": used},
            code="seat_limit",
        )


def contacts_used(organization, *, up_to: int | None = None) -> int:
    """The organization's contacts, counted up to `up_to` (+1) at most: a limit check needs
    to know only whether the limit is reached, not to count a million rows."""
    from contacts.models import Contact

    with tenant_context(organization):
        rows = Contact.objects.filter(organization=organization).order_by().values("pk")
        if up_to is not None:
            rows = rows[: up_to + 1]
        return rows.count()


def check_contacts(organization, adding: int) -> None:
    """Refuse adding `adding` contacts (a create: 1; an import: its row count, or one batch)
    when the organization's plan does not have room for them. Call before writing."""
    plan = effective_plan(organization)
    _refuse_read_only(plan)
    if plan.contacts is None or adding <= 0:
        return
    used = contacts_used(organization, up_to=plan.contacts)
    if used + adding > plan.contacts:
        room = max(plan.contacts - used, 0)
        raise PlanLimitReached(
            _(
                "Your %(plan)s plan includes %(limit)d contacts; %(used)d are used, so %(room)d more fit and "
                "%(adding)d were to be added. Upgrade your plan on the Billing page to add more."
            )
            % {"plan": plan.name, "limit": plan.contacts, "used": used, "room": room, "adding": adding},
            code="contact_limit",
        )


def check_feature(organization, feature: str) -> None:
    """Refuse a feature the plan does not include, at the feature's entry point."""
    plan = effective_plan(organization)
    if not plan.includes(feature):
        raise PlanLimitReached(
            _("%(feature)s is not included in your %(plan)s plan. Upgrade on the Billing page to use it.")
            % {"feature": FEATURES.get(feature, feature), "plan": plan.name},
            code="feature",
        )


def requires_feature(feature: str):
    """A view's entry-point check for a plan feature ("marketing", "api"): without it the
    member sees the upgrade page (403) naming the feature and where to upgrade. Stacks with
    @requires_role (the role attributes are kept). Services behind the view call
    `check_feature` themselves as well, for jobs and the API."""

    def decorate(view):
        @functools.wraps(view)
        def guarded(request, *args, **kwargs):
            try:
                check_feature(request.organization, feature)
            except PlanLimitReached as exc:
                from django.shortcuts import render

                return render(request, "billing/upgrade.html", {"message": exc.messages[0]}, status=403)
            return view(request, *args, **kwargs)

        return guarded

    return decorate
