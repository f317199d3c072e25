"""Billing's writes: checkout, the billing portal, billing details, and Stripe's events.

Stripe's events:
1. `receive_event` (the webhook view): verify the signature with Stripe's library, then store
   the event under its unique Stripe id (a replay finds the row and stops there) and queue
   the job after commit. Nothing else happens in the request.
2. `process_event` (the job): claim the row atomically, find the organization (the Checkout
   Session's client_reference_id, or the Stripe customer already linked to it), and apply
   the event inside the organization's tenant context.
3. Order: a subscription or invoice takes the state of an event only when the event is newer
   (Stripe's `created`) than the one that set its current state, so a late or replayed
   older event changes nothing; the object in the event carries its whole state, so applying
   the newest one is enough.
"""

from __future__ import annotations

import datetime
import json
import logging
from typing import Any

import stripe
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from billing import stripe_client
from billing.cui import validate_cui
from billing.limits import billing_enabled
from billing.models import BillingDetails, Currency, Interval, Invoice, Plan, StripeEvent, Subscription
from billing.plans import ensure_plans
from logicnet.audit.services import record_event
from logicnet.tenancy.context import tenant_context
from logicnet.tenancy.organizations import organization_model

logger = logging.getLogger(__name__)

# Keys Stripe uses for a customer's personal values in the objects of its events. They are
# removed before an event is stored (data minimisation, GDPR Art. 5(1)(c)): Stripe keeps
# them (a declared store), the project needs none of them to act.
PERSONAL_KEYS = frozenset(
    {
        "address",
        "billing_details",
        "customer_address",
        "customer_details",
        "customer_email",
        "customer_name",
        "customer_phone",
        "customer_shipping",
        "customer_tax_ids",
        "description",
        "email",
        "name",
        "phone",
        "shipping",
        "tax_ids",
        "receipt_email",
        "invoice_settings",
        "sources",
    }
)

STATUS_FROM_STRIPE = {
    "trialing": Subscription.Status.TRIALING,
    "active": Subscription.Status.ACTIVE,
    "past_due": Subscription.Status.PAST_DUE,
    "unpaid": Subscription.Status.PAST_DUE,
    "paused": Subscription.Status.PAST_DUE,
    "canceled": Subscription.Status.CANCELED,
    "incomplete_expired": Subscription.Status.CANCELED,
    # "incomplete": the first payment has not gone through; nothing changes yet.
}


class InvalidWebhook(Exception):
    """The request was not a correctly signed, recent Stripe event."""


class BillingNotConfigured(ValidationError):
    def __init__(self):
        super().__init__(_("Payments are not configured on this server."), code="billing_off")


# --- the organization's side --------------------------------------------------------------------


def default_plan() -> Plan:
    found = Plan.objects.filter(is_default=True).first()
    if found is None:
        # The plans are data (migration billing.0002); a database emptied of them since
        # (a restore, a flushed test database) gets them back rather than failing.
        ensure_plans()
        found = Plan.objects.get(is_default=True)
    return found


def subscription_for(organization) -> Subscription:
    """The organization's subscription row, created (no subscription, default plan) if missing."""
    with tenant_context(organization):
        found = Subscription.objects.select_related("plan").filter(organization=organization).first()
        if found is not None:
            return found
        Subscription.objects.bulk_create(
            [Subscription(organization=organization, plan=default_plan())], ignore_conflicts=True
        )
        return Subscription.objects.select_related("plan").get(organization=organization)


def price_id(plan_key: str, interval: str, currency: str) -> str:
    return settings.STRIPE_PRICES.get(f"{plan_key}:{interval}:{currency}", "")


def plan_for_price(price: str) -> tuple[Plan, str, str] | None:
    """(plan, interval, currency) of a configured Stripe price id."""
    for key, configured in settings.STRIPE_PRICES.items():
        if configured and configured == price:
            plan_key, interval, currency = key.split(":")
            plan = Plan.objects.filter(key=plan_key).first()
            return (plan, interval, currency) if plan else None
    return None


def start_checkout(
    *, organization, actor, plan_key: str, interval: str, currency: str, success_url: str, cancel_url: str
) -> str:
    """Create a Stripe Checkout Session for a subscription to the plan and return its URL.

    The session names the organization (client_reference_id and metadata), so its completion
    event finds it; the Stripe customer is reused when the organization has one already."""
    if not billing_enabled():
        raise BillingNotConfigured
    if interval not in Interval.values or currency not in Currency.values:
        raise ValidationError(_("Choose a billing interval and a currency."), code="invalid")
    plan = Plan.objects.filter(key=plan_key, is_active=True, is_default=False).first()
    price = price_id(plan_key, interval, currency)
    if plan is None or not price:
        raise ValidationError(_("This plan cannot be bought online yet."), code="no_price")
    subscription = subscription_for(organization)
    metadata = {
        "organization_id": str(organization.pk),
        "plan": plan.key,
        "interval": interval,
        "currency": currency,
    }
    params: dict[str, Any] = {
        "mode": "subscription",
        "line_items": [{"price": price, "quantity": 1}],
        "client_reference_id": str(organization.pk),
        "metadata": metadata,
        "subscription_data": {"metadata": metadata},
        "success_url": success_url,
        "cancel_url": cancel_url,
        "billing_address_collection": "required",
        "tax_id_collection": {"enabled": True},
        "locale": "auto",
    }
    if subscription.stripe_customer_id:
        params["customer"] = subscription.stripe_customer_id
    else:
        params["customer_email"] = actor.email
    session = stripe_client.create_checkout_session(params)  # outside any transaction of ours
    with tenant_context(organization):
        record_event(
            action="billing.checkout_started",
            actor=actor,
            organization=organization,
            details={"plan": plan.key, "interval": interval, "currency": currency},
        )
    return session.url


def open_billing_portal(*, organization, actor, return_url: str) -> str:
    """A Stripe Billing Portal session (card changes, invoices, cancellation)."""
    if not billing_enabled():
        raise BillingNotConfigured
    subscription = subscription_for(organization)
    if not subscription.stripe_customer_id:
        raise ValidationError(_("There is no payment account yet: choose a plan first."), code="no_customer")
    session = stripe_client.create_portal_session(
        {"customer": subscription.stripe_customer_id, "return_url": return_url}
    )
    with tenant_context(organization):
        record_event(action="billing.portal_opened", actor=actor, organization=organization)
    return session.url


BILLING_DETAIL_FIELDS = (
    "legal_name",
    "vat_id",
    "registration_number",
    "address",
    "city",
    "county",
    "postal_code",
    "country",
    "email",
)


def billing_details_for(organization) -> BillingDetails | None:
    with tenant_context(organization):
        return BillingDetails.objects.filter(organization=organization).first()


def update_billing_details(*, organization, actor, data: dict[str, Any]) -> BillingDetails:
    """Store the billing address and CUI (validated with its check digit when given)."""
    unknown = set(data) - set(BILLING_DETAIL_FIELDS)
    if unknown:
        raise ValueError(f"unknown billing fields: {sorted(unknown)}")
    data = {key: (value or "").strip() for key, value in data.items()}
    if data.get("vat_id"):
        try:
            data["vat_id"] = validate_cui(data["vat_id"])
        except ValidationError as exc:
            raise ValidationError({"vat_id": exc.messages}) from None
    if data.get("country"):
        data["country"] = data["country"].upper()
    with tenant_context(organization):
        details = BillingDetails.objects.select_for_update().filter(organization=organization).first()
        if details is None:
            details = BillingDetails(organization=organization)
        changed = [name for name, value in data.items() if getattr(details, name) != value]
        for name, value in data.items():
            setattr(details, name, value)
        details.updated_by = actor
        details.updated_at = timezone.now()
        details.full_clean(exclude=["organization", "updated_by"])
        details.save()
        record_event(
            action="billing.details_changed", actor=actor, organization=organization, details={"fields": changed}
        )
    return details


# --- Stripe's events ----------------------------------------------------------------------------


def minimize_payload(value: Any) -> Any:
    """The event without the customer's personal values (PERSONAL_KEYS, at any depth)."""
    if isinstance(value, dict):
        return {key: minimize_payload(item) for key, item in value.items() if key not in PERSONAL_KEYS}
    if isinstance(value, list):
        return [minimize_payload(item) for item in value]
    return value


def _customer_of(obj: dict) -> str:
    if obj.get("object") == "customer":
        return obj.get("id") or ""
    customer = obj.get("customer")
    if isinstance(customer, dict):
        return customer.get("id") or ""
    return customer or ""


def receive_event(*, payload: bytes, signature: str | None) -> tuple[StripeEvent, bool]:
    """Verify and store one webhook delivery; (row, True) when it is new.

    An invalid signature, a timestamp outside the tolerance or an unreadable body raise
    InvalidWebhook and store nothing. A replay returns the stored row and queues nothing."""
    if not billing_enabled():
        raise InvalidWebhook("billing is not configured")
    try:
        event = stripe_client.construct_event(payload, signature or "")
    except (stripe.SignatureVerificationError, ValueError) as exc:
        raise InvalidWebhook(type(exc).__name__) from None
    # The body as Stripe sent it (verified above), not the library's object: amounts stay
    # as JSON numbers and strings, exactly as signed.
    values = json.loads(payload)
    obj = values.get("data", {}).get("object", {}) or {}
    try:
        # The unique Stripe id decides: a second delivery of the same event fails here.
        with transaction.atomic():
            stored = StripeEvent.objects.create(
                stripe_id=event.id,
                type=event.type,
                created=datetime.datetime.fromtimestamp(event.created, tz=datetime.UTC),
                livemode=bool(values.get("livemode")),
                customer=_customer_of(obj),
                payload=minimize_payload(values),
            )
            _queue(stored.pk)
    except IntegrityError:
        return StripeEvent.objects.get(stripe_id=event.id), False
    return stored, True


def _queue(event_pk: int) -> None:
    from billing.tasks import process_stripe_event

    transaction.on_commit(lambda: process_stripe_event.delay(event_pk))


def _claim(event_pk: int) -> bool:
    return bool(
        StripeEvent.objects.filter(
            pk=event_pk, state__in=[StripeEvent.State.RECEIVED, StripeEvent.State.FAILED]
        ).update(state=StripeEvent.State.PROCESSING, attempts=F("attempts") + 1, claimed_at=timezone.now())
    )


def _finish(event_pk: int, state: str, *, organization_id: int | None = None, error: str = "") -> None:
    StripeEvent.objects.filter(pk=event_pk).update(
        state=state, processed_at=timezone.now(), for_organization=organization_id, error=error[:200]
    )


def organization_for_customer(customer: str) -> int | None:
    """The organization linked to a Stripe customer, through the narrow SECURITY DEFINER
    function (the subscription rows are under row-level security; this returns an id only)."""
    if not customer:
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT logicnet_billing_customer_organization(%s)", [customer])
        row = cursor.fetchone()
    return row[0] if row and row[0] is not None else None


def _organization_for(event: stripe.Event, obj: dict) -> Any | None:
    candidates: list[int] = []
    if event.type == "checkout.session.completed":
        reference = obj.get("client_reference_id") or (obj.get("metadata") or {}).get("organization_id")
        if reference and str(reference).isdigit():
            candidates.append(int(reference))
    found = organization_for_customer(_customer_of(obj))
    if found is not None:
        candidates.append(found)
    for organization_id in candidates:
        organization = organization_model().objects.filter(pk=organization_id, is_active=True).first()
        if organization is not None:
            return organization
    return None


def process_event(event_pk: int) -> str:
    """Apply one stored event (the job). Returns the event's final state."""
    if not _claim(event_pk):
        return "skipped"  # processed already, or another worker has it
    row = StripeEvent.objects.get(pk=event_pk)
    # Stripe's own Event object, rebuilt from the stored payload; its object as plain data.
    event = stripe.Event.construct_from(row.payload, settings.STRIPE_SECRET_KEY or None)
    obj = event.data.object.to_dict()
    try:
        organization = _organization_for(event, obj)
        if organization is None:
            _finish(event_pk, StripeEvent.State.IGNORED, error="no organization linked to this event")
            return StripeEvent.State.IGNORED
        with tenant_context(organization):
            applied = _apply(organization, event.type, obj, row.created)
        _finish(
            event_pk,
            StripeEvent.State.PROCESSED if applied else StripeEvent.State.IGNORED,
            organization_id=organization.pk,
        )
        return StripeEvent.State.PROCESSED if applied else StripeEvent.State.IGNORED
    except Exception as exc:
        # The class only: a message may quote values of the event.
        logger.exception("billing: Stripe event %s (%s) failed", row.stripe_id, row.type)
        _finish(event_pk, StripeEvent.State.FAILED, error=type(exc).__name__)
        raise


def _apply(organization, kind: str, obj: dict, created: datetime.datetime) -> bool:
    if kind == "checkout.session.completed":
        return _checkout_completed(organization, obj, created)
    if kind.startswith("customer.subscription."):
        return _subscription_changed(organization, obj, created, event_type=kind)
    if kind.startswith("invoice."):
        return _invoice_changed(organization, obj, created)
    if kind == "customer.deleted":
        return _customer_deleted(organization, obj, created)
    if kind in ("customer.created", "customer.updated"):
        return link_customer(organization, obj.get("id") or "")
    return False


def link_customer(organization, customer: str) -> bool:
    """Link a Stripe customer to the organization (once), and process again the events of
    that customer that arrived before anyone knew whose they were."""
    if not customer:
        return False
    subscription = Subscription.objects.select_for_update().get(pk=subscription_for(organization).pk)
    if subscription.stripe_customer_id == customer:
        return False
    subscription.stripe_customer_id = customer
    subscription.updated_at = timezone.now()
    subscription.save(update_fields=["stripe_customer_id", "updated_at"])
    waiting = list(
        StripeEvent.objects.filter(
            customer=customer, state=StripeEvent.State.IGNORED, for_organization=None
        ).values_list("pk", flat=True)
    )
    if waiting:
        StripeEvent.objects.filter(pk__in=waiting).update(state=StripeEvent.State.RECEIVED)
        for pk in waiting:
            _queue(pk)
    return True


def _checkout_completed(organization, session: dict, created: datetime.datetime) -> bool:
    if session.get("mode") != "subscription":
        # A one-time payment or a card setup: only the customer link matters here.
        return link_customer(organization, _customer_of(session))
    link_customer(organization, _customer_of(session))
    subscription = Subscription.objects.select_for_update().get(organization=organization)
    metadata = session.get("metadata") or {}
    plan = Plan.objects.filter(key=metadata.get("plan", "")).first()
    fields = ["updated_at"]
    new_subscription = session.get("subscription") or ""
    if isinstance(new_subscription, dict):
        new_subscription = new_subscription.get("id", "")
    if subscription.status in (Subscription.Status.NONE, Subscription.Status.CANCELED) or (
        new_subscription and new_subscription == subscription.stripe_subscription_id
    ):
        if plan is not None and plan.pk != subscription.plan_id:
            subscription.plan = plan
            fields.append("plan")
        if metadata.get("interval") in Interval.values:
            subscription.interval = metadata["interval"]
            fields.append("interval")
        if metadata.get("currency") in Currency.values:
            subscription.currency = metadata["currency"]
            fields.append("currency")
        if new_subscription:
            subscription.stripe_subscription_id = new_subscription
            fields.append("stripe_subscription_id")
        if subscription.status in (Subscription.Status.NONE, Subscription.Status.CANCELED):
            # Paid at checkout; the subscription's own events refine it (trialing, past due).
            previous = subscription.status
            subscription.status = Subscription.Status.ACTIVE
            subscription.past_due_since = subscription.canceled_at = None
            fields += ["status", "past_due_since", "canceled_at"]
            _audit_status(organization, previous, subscription)
    subscription.updated_at = timezone.now()
    subscription.save(update_fields=sorted(set(fields)))
    return True


def _price_of(subscription_object) -> str:
    items = ((subscription_object.get("items") or {}).get("data")) or []
    if items:
        price = items[0].get("price") or items[0].get("plan") or {}
        return price.get("id", "") if isinstance(price, dict) else str(price)
    plan = subscription_object.get("plan") or {}
    return plan.get("id", "") if isinstance(plan, dict) else ""


def _timestamp(value) -> datetime.datetime | None:
    return datetime.datetime.fromtimestamp(value, tz=datetime.UTC) if value else None


def _subscription_changed(organization, obj: dict, created: datetime.datetime, *, event_type: str) -> bool:
    subscription = Subscription.objects.select_for_update().get(pk=subscription_for(organization).pk)
    stripe_id = obj.get("id") or ""
    if subscription.stripe_subscription_id and stripe_id != subscription.stripe_subscription_id:
        # Another subscription of the customer: only a live one replaces a canceled one.
        replaces = subscription.status in (Subscription.Status.NONE, Subscription.Status.CANCELED) and obj.get(
            "status"
        ) in ("trialing", "active", "past_due")
        if not replaces:
            return False
    elif subscription.state_at is not None and created < subscription.state_at:
        return False  # an older state than the one we hold: out of order, or replayed
    status = Subscription.Status.CANCELED if event_type == "customer.subscription.deleted" else None
    status = status or STATUS_FROM_STRIPE.get(obj.get("status") or "")
    previous = subscription.status
    fields = {"state_at", "updated_at", "stripe_subscription_id"}
    subscription.stripe_subscription_id = stripe_id
    subscription.state_at = created
    if status is not None:
        subscription.status = status
        fields.add("status")
    found = plan_for_price(_price_of(obj))
    if found is not None:
        subscription.plan, subscription.interval, subscription.currency = found
        fields |= {"plan", "interval", "currency"}
    subscription.current_period_end = _timestamp(obj.get("current_period_end"))
    subscription.trial_end = _timestamp(obj.get("trial_end"))
    subscription.cancel_at_period_end = bool(obj.get("cancel_at_period_end"))
    fields |= {"current_period_end", "trial_end", "cancel_at_period_end"}
    if subscription.status == Subscription.Status.PAST_DUE:
        # The grace period runs from the first overdue state, not from each reminder.
        subscription.past_due_since = subscription.past_due_since or created
    else:
        subscription.past_due_since = None
    if subscription.status == Subscription.Status.CANCELED:
        subscription.canceled_at = subscription.canceled_at or _timestamp(obj.get("ended_at")) or created
    else:
        subscription.canceled_at = None
    fields |= {"past_due_since", "canceled_at"}
    subscription.updated_at = timezone.now()
    subscription.save(update_fields=sorted(fields))
    if previous != subscription.status:
        _audit_status(organization, previous, subscription)
    return True


def _audit_status(organization, previous: str, subscription: Subscription) -> None:
    record_event(
        action="billing.subscription_changed",
        organization=organization,
        target=subscription,
        details={"from": previous, "to": subscription.status, "plan": subscription.plan.key},
    )


def _invoice_changed(organization, obj: dict, created: datetime.datetime) -> bool:
    stripe_id = obj.get("id") or ""
    if not stripe_id:
        return False
    invoice = Invoice.objects.select_for_update().filter(organization=organization, stripe_id=stripe_id).first()
    if invoice is not None and created < invoice.state_at:
        return False
    invoice = invoice or Invoice(organization=organization, stripe_id=stripe_id)
    invoice.number = obj.get("number") or ""
    invoice.status = obj.get("status") or ""
    invoice.currency = obj.get("currency") or ""
    invoice.amount_due = obj.get("amount_due") or 0
    invoice.amount_paid = obj.get("amount_paid") or 0
    invoice.hosted_invoice_url = obj.get("hosted_invoice_url") or ""
    invoice.invoice_pdf = obj.get("invoice_pdf") or ""
    invoice.issued_at = _timestamp(obj.get("created"))
    invoice.period_start = _timestamp(obj.get("period_start"))
    invoice.period_end = _timestamp(obj.get("period_end"))
    invoice.state_at = created
    invoice.save()
    return True


def _customer_deleted(organization, obj: dict, created: datetime.datetime) -> bool:
    subscription = Subscription.objects.select_for_update().get(pk=subscription_for(organization).pk)
    if subscription.stripe_customer_id != obj.get("id"):
        return False
    subscription.stripe_customer_id = ""
    subscription.updated_at = timezone.now()
    subscription.save(update_fields=["stripe_customer_id", "updated_at"])
    return True


def process_pending_events(*, older_than: datetime.timedelta = datetime.timedelta(minutes=1)) -> int:
    """Beat: queue events stored but never processed (the broker was down), and failed ones
    again, up to five attempts; a row stuck in processing for 10 minutes is handed back."""
    now = timezone.now()
    StripeEvent.objects.filter(
        state=StripeEvent.State.PROCESSING, claimed_at__lt=now - datetime.timedelta(minutes=10)
    ).update(state=StripeEvent.State.FAILED)
    pending = list(
        StripeEvent.objects.filter(
            state__in=[StripeEvent.State.RECEIVED, StripeEvent.State.FAILED],
            attempts__lt=5,
            received_at__lt=now - older_than,
        ).values_list("pk", flat=True)[:500]
    )
    from billing.tasks import process_stripe_event

    for pk in pending:
        process_stripe_event.delay(pk)
    return len(pending)


# --- plans (the platform's staff, in the admin) ----------------------------------------------------

PLAN_EDITABLE = ("name", "seats", "contacts", "monthly_eur", "yearly_eur", "monthly_ron", "yearly_ron", "is_active")


def update_plan(*, plan: Plan, actor, values: dict[str, Any]) -> Plan:
    """Change a plan's name, limits, prices or availability (its key, rank and default stay:
    subscriptions and Stripe prices refer to them). Validated and audited; what a paying
    organization already has changes only through Stripe's events."""
    changed = {name: values[name] for name in PLAN_EDITABLE if name in values and values[name] != getattr(plan, name)}
    if not changed:
        return plan
    for name, value in changed.items():
        setattr(plan, name, value)
    plan.full_clean()
    plan.save(update_fields=list(changed))
    record_event(
        action="billing.plan_updated",
        actor=actor,
        organization=None,
        target=plan,
        details={"plan": plan.key, "fields": sorted(changed)},
    )
    return plan
