"""The one place the project talks to Stripe's API (Stripe's own library).

Every call goes through `client()`, a StripeClient built from the settings: the secret key
and the API base address (STRIPE_API_BASE; tests point it at a local fake Stripe server, so
no test reaches the network and nothing of the project is mocked). Calls are made outside
database transactions: a slow network must not hold locks.
"""

from __future__ import annotations

import stripe
from django.conf import settings


def client() -> stripe.StripeClient:
    base = settings.STRIPE_API_BASE.rstrip("/")
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses={"api": base},
        max_network_retries=2,
    )


def create_checkout_session(params: dict) -> stripe.checkout.Session:
    return client().v1.checkout.sessions.create(params=params)


def create_portal_session(params: dict) -> stripe.billing_portal.Session:
    return client().v1.billing_portal.sessions.create(params=params)


def construct_event(payload: bytes, signature: str) -> stripe.Event:
    """Verify the signature (and its age, STRIPE_WEBHOOK_TOLERANCE) and parse the event.
    Raises stripe.SignatureVerificationError or ValueError."""
    return stripe.Webhook.construct_event(
        payload, signature, settings.STRIPE_WEBHOOK_SECRET, tolerance=settings.STRIPE_WEBHOOK_TOLERANCE
    )
