"""Personal-data classification of billing.

Plans, subscriptions and invoices are the organization's contract with Logicnet, not a
person's data. The billing details may be a person's (a sole trader's name, address and CUI;
a billing contact's email): encrypted with the organization's key, erased with the
organization. Stripe keeps the customer's name, email, address and card: the `stripe` store
and sub-processor (logicnet/personal_data/policy.py); the events stored here have those values
removed before storage (billing.services.minimize_payload)."""

from logicnet.personal_data.registry import (
    Category,
    Disclose,
    Erasure,
    Subject,
    classify,
    not_personal,
    personal,
    registry,
    user_via,
)

# The organization's members: whose business the billing details are (as Organization.name).
_MEMBERS = Subject("user", "organization__memberships__user")


def _billing(category: str = Category.CONTACT):
    return personal(
        category,
        subject=_MEMBERS,
        erasure=Erasure.BLANK,
        retention="organization",
        purpose="service",
        provided=True,
    )


classify(
    "billing.Plan",
    {
        name: not_personal()
        for name in (
            "id",
            "key",
            "name",
            "rank",
            "seats",
            "contacts",
            "features",
            "monthly_eur",
            "yearly_eur",
            "monthly_ron",
            "yearly_ron",
            "is_default",
            "is_active",
        )
    },
)

classify(
    "billing.Subscription",
    {
        "id": not_personal(),
        "organization": not_personal(),
        "plan": not_personal(),
        "status": not_personal(),
        "interval": not_personal(),
        "currency": not_personal(),
        "stripe_customer_id": not_personal("Stripe's id of the organization as a customer (pseudonymous at Stripe)"),
        "stripe_subscription_id": not_personal(),
        "current_period_end": not_personal(),
        "trial_end": not_personal(),
        "cancel_at_period_end": not_personal(),
        "past_due_since": not_personal(),
        "canceled_at": not_personal(),
        "state_at": not_personal(),
        "updated_at": not_personal(),
    },
)

classify(
    "billing.BillingDetails",
    {
        "id": not_personal(),
        "organization": not_personal(),
        "legal_name": _billing(Category.PROFESSIONAL),
        "vat_id": _billing(Category.FINANCIAL),
        "registration_number": _billing(Category.PROFESSIONAL),
        "address": _billing(),
        "city": _billing(),
        "county": _billing(),
        "postal_code": _billing(),
        "country": not_personal(),
        "email": _billing(),
        "updated_by": personal(
            Category.USAGE,
            subject=user_via("updated_by"),
            erasure=Erasure.BLANK,
            retention="account",
            purpose="team_activity",
            disclose=Disclose.NAME,
        ),
        "updated_at": not_personal(),
    },
)

classify(
    "billing.StripeEvent",
    {
        "id": not_personal(),
        "stripe_id": not_personal(),
        "type": not_personal(),
        "created": not_personal(),
        "livemode": not_personal(),
        "customer": not_personal("Stripe's customer id of an organization"),
        "payload": not_personal(
            "the event with the customer's name, email, phone, addresses and tax ids removed before storage "
            "(billing.services.PERSONAL_KEYS): ids, states, amounts and dates"
        ),
        "state": not_personal(),
        "attempts": not_personal(),
        "for_organization": not_personal(),
        "received_at": not_personal(),
        "claimed_at": not_personal(),
        "processed_at": not_personal(),
        "error": not_personal("an exception's class name, never its message"),
    },
)

classify(
    "billing.Invoice",
    {
        "id": not_personal(),
        "organization": not_personal(),
        "stripe_id": not_personal(),
        "number": not_personal(),
        "status": not_personal(),
        "currency": not_personal(),
        "amount_due": not_personal(),
        "amount_paid": not_personal(),
        "hosted_invoice_url": not_personal("Stripe's link to the invoice, which Stripe keeps (a declared store)"),
        "invoice_pdf": not_personal("Stripe's link to the invoice's PDF"),
        "issued_at": not_personal(),
        "period_start": not_personal(),
        "period_end": not_personal(),
        "state_at": not_personal(),
    },
)

# Audit `details` keys of billing's events: a plan key, an interval, a currency.
registry.declare_audit_structural_keys("plan", "interval", "currency")
