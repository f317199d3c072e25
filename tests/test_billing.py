"""Billing: Stripe's real event payloads (../shared/fixtures/stripe) signed with a test secret
through Stripe's own library and delivered to the webhook; replays and reordering; plan
limits refused in the services; read-only mode after the grace period; the CUI; billing off.

No test reaches the network: Checkout and the Billing Portal go to a local fake Stripe
server (tests/stripe_fake.py) through Stripe's library."""

from __future__ import annotations

import copy
import datetime
import json
import logging
import time

import pytest
import stripe
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.services import accept_invitation, invite_member
from billing import limits, services
from billing.cui import validate_cui
from billing.limits import PlanLimitReached, check_contacts, check_feature, effective_plan, role_limit
from billing.models import BillingDetails, Invoice, Plan, StripeEvent, Subscription
from billing.plans import ensure_plans
from contacts.services.contacts import create_contact
from logicnet.tenancy.context import tenant_context
from logicnet.tenancy.roles import Role
from tests.factories import make_member, make_user
from tests.shared_fixtures import SHARED_FIXTURES
from tests.stripe_fake import fake_stripe, fixture_event

SECRET = "whsec_test_logicnet"
# The price id in the fixtures' subscriptions, configured here as Pro, monthly, in EUR.
PRO_PRICE = "price_000000000000000000000000"
BUSINESS_PRICE = "price_business_monthly_eur"
CUSTOMER = "cus_00000000000000"
EVENT_FILES = (
    sorted(p.name for p in (SHARED_FIXTURES / "stripe").glob("event_*.json")) if SHARED_FIXTURES.exists() else []
)
PERSONAL_KEYS = {"email", "customer_email", "customer_name", "customer_details", "address", "phone", "name"}


@pytest.fixture(autouse=True)
def _plans(db):
    # The plans are migration data: a transactional test elsewhere may have flushed them.
    ensure_plans()


@pytest.fixture
def billing_on(settings):
    settings.STRIPE_SECRET_KEY = "sk_test_logicnet"
    settings.STRIPE_WEBHOOK_SECRET = SECRET
    settings.BILLING_ENABLED = True
    settings.STRIPE_PRICES = {
        **dict.fromkeys(settings.STRIPE_PRICES, ""),
        "pro:monthly:eur": PRO_PRICE,
        "business:monthly:eur": BUSINESS_PRICE,
    }
    return settings


def deliver(client, event: dict, *, secret: str = SECRET, timestamp: int | None = None, process=None):
    """POST the event as Stripe does: the body signed with the endpoint's secret by Stripe's
    own signature code. `process`: django_capture_on_commit_callbacks, to run the job."""
    payload = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp)
    url = reverse("stripe_webhook")
    if process is None:
        return client.post(url, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header)
    with process(execute=True):
        return client.post(url, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header)


def event(name: str, *, event_id: str | None = None, created: int | None = None, **changes) -> dict:
    """A fixture event, with a unique id when given (the fixtures share placeholder ids) and
    changes to its object."""
    data = copy.deepcopy(fixture_event(name))
    if event_id:
        data["id"] = event_id
    if created is not None:
        data["created"] = created
    data["data"]["object"].update(changes)
    return data


def link_customer(organization, customer: str = CUSTOMER) -> None:
    with tenant_context(organization):
        services.link_customer(organization, customer)


def subscription_of(organization) -> Subscription:
    return services.subscription_for(organization)


# --- the CUI ----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["RO18547290", "18547290", " ro 14399840 ", "1590082", "RO 33034700"])
def test_valid_cuis_are_accepted_and_normalized(value):
    assert validate_cui(value) == value.upper().replace(" ", "")


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("18547291", "cui_check_digit"),
        ("RO14399841", "cui_check_digit"),
        ("RO", "cui_format"),
        ("1", "cui_format"),
        ("12345678901", "cui_format"),
        ("RX18547290", "cui_format"),
        ("01854729", "cui_format"),
        ("18547290RO", "cui_format"),
    ],
)
def test_invalid_cuis_are_refused(value, code):
    with pytest.raises(ValidationError) as refused:
        validate_cui(value)
    assert refused.value.code == code


def test_billing_details_are_stored_encrypted_with_a_checked_cui(org_a, alice):
    with pytest.raises(ValidationError) as refused:
        services.update_billing_details(organization=org_a, actor=alice, data={"vat_id": "RO18547291"})
    assert "vat_id" in refused.value.message_dict
    services.update_billing_details(
        organization=org_a,
        actor=alice,
        data={"legal_name": "Alpha SRL", "vat_id": "ro18547290", "city": "Cluj-Napoca", "country": "ro"},
    )
    with tenant_context(org_a):  # values decrypt only inside their organization's context
        details = services.billing_details_for(org_a)
        assert (details.vat_id, details.country, details.city) == ("RO18547290", "RO", "Cluj-Napoca")
    from django.db import connection

    with tenant_context(org_a), connection.cursor() as cursor:
        cursor.execute("SELECT vat_id, city FROM billing_billingdetails WHERE organization_id = %s", [org_a.pk])
        stored = cursor.fetchone()
    assert "18547290" not in stored[0] and "Cluj" not in stored[1]


# --- billing off ---------------------------------------------------------------------------------


def test_without_stripe_keys_every_organization_is_unlimited(client, org_a, alice, settings):
    assert not settings.BILLING_ENABLED
    assert effective_plan(org_a).unlimited
    check_contacts(org_a, adding=10**9)
    check_feature(org_a, "api")
    assert role_limit(org_a) is None
    client.force_login(alice)
    page = client.get(reverse("billing", args=[org_a.slug]))
    assert page.status_code == 200
    assert "Payments are not configured" in page.content.decode()
    assert "Unlimited" in page.content.decode()
    refused = client.post(
        reverse("billing_checkout", args=[org_a.slug]), {"plan": "pro", "interval": "monthly", "currency": "eur"}
    )
    assert refused.status_code == 302
    assert not StripeEvent.objects.exists()


def test_without_stripe_keys_the_webhook_stores_nothing(client, db):
    response = deliver(client, fixture_event("event_invoice.paid__stripe-ruby-mock.json"))
    assert response.status_code == 404
    assert not StripeEvent.objects.exists()


# --- the webhook -------------------------------------------------------------------------------------


def test_an_invalid_signature_is_refused_with_400_and_nothing_stored(client, db, billing_on, caplog):
    with caplog.at_level(logging.WARNING, logger="billing.views"):
        response = deliver(client, fixture_event("event_invoice.paid__stripe-ruby-mock.json"), secret="whsec_wrong")
    assert response.status_code == 400
    assert not StripeEvent.objects.exists()
    assert any("refused a Stripe webhook" in record.getMessage() for record in caplog.records)


def test_an_unsigned_or_stale_delivery_is_refused(client, db, billing_on):
    body = json.dumps(fixture_event("event_invoice.paid__stripe-ruby-mock.json"))
    url = reverse("stripe_webhook")
    assert client.post(url, data=body, content_type="application/json").status_code == 400
    old = int(time.time()) - 3600  # older than the 300 s tolerance: a captured request replayed
    assert deliver(client, json.loads(body), timestamp=old).status_code == 400
    tampered = stripe.WebhookSignature.generate_signature_header(body, SECRET)
    altered = body.replace('"amount_paid": 2000', '"amount_paid": 1')
    assert (
        client.post(url, data=altered, content_type="application/json", HTTP_STRIPE_SIGNATURE=tampered).status_code
        == 400
    )
    assert not StripeEvent.objects.exists()


def test_the_webhook_needs_no_login_and_no_csrf_token(billing_on, db):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = deliver(strict, event("event_customer.created__stripe-ruby-mock.json", event_id="evt_csrf"))
    assert response.status_code == 200
    assert StripeEvent.objects.filter(stripe_id="evt_csrf").exists()


@pytest.mark.parametrize("name", EVENT_FILES or [pytest.param("absent", marks=pytest.mark.skip("no shared fixtures"))])
def test_every_fixture_event_is_stored_then_processed(
    name, client, billing_on, org_a, eager_tasks, django_capture_on_commit_callbacks
):
    link_customer(org_a)
    payload = fixture_event(name)
    kind = payload["type"]
    response = deliver(client, payload, process=django_capture_on_commit_callbacks)
    assert response.status_code == 200
    stored = StripeEvent.objects.get(stripe_id=payload["id"])
    assert stored.type == kind
    assert stored.created == datetime.datetime.fromtimestamp(payload["created"], tz=datetime.UTC)
    # Stored without the customer's personal values; everything needed to act is there.
    flat = json.dumps(stored.payload)
    assert not any(f'"{key}":' in flat for key in PERSONAL_KEYS), flat
    assert stored.state in (StripeEvent.State.PROCESSED, StripeEvent.State.IGNORED)
    subscription = subscription_of(org_a)
    obj = payload["data"]["object"]
    if kind in ("customer.subscription.created", "customer.subscription.updated"):
        assert stored.state == StripeEvent.State.PROCESSED
        assert subscription.status == Subscription.Status.ACTIVE
        assert subscription.plan.key == "pro"  # the fixture's price is configured as Pro
        assert subscription.stripe_subscription_id == obj["id"]
        assert effective_plan(org_a).contacts == Plan.objects.get(key="pro").contacts
    elif kind == "customer.subscription.deleted":
        assert subscription.status == Subscription.Status.CANCELED
        assert subscription.canceled_at is not None
    elif kind == "customer.subscription.trial_will_end":
        assert subscription.status == Subscription.Status.TRIALING
        assert subscription.trial_end is not None
    elif kind.startswith("invoice."):
        with tenant_context(org_a):
            invoice = Invoice.objects.get(stripe_id=obj["id"])
        assert (invoice.status, invoice.amount_due, invoice.currency) == (
            obj["status"],
            obj["amount_due"],
            obj["currency"],
        )
    elif kind == "customer.deleted":
        assert subscription.stripe_customer_id == ""
    elif kind == "checkout.session.completed":
        if obj.get("customer"):
            assert stored.for_organization == org_a.pk
            assert subscription.stripe_customer_id == CUSTOMER
        else:
            # A card set up without a customer names no organization: kept, ignored.
            assert stored.state == StripeEvent.State.IGNORED
    else:
        assert kind in ("customer.created", "customer.updated")
        assert subscription.stripe_customer_id == CUSTOMER


def test_a_replayed_event_changes_nothing_twice(
    client, billing_on, org_a, eager_tasks, django_capture_on_commit_callbacks
):
    link_customer(org_a)
    payload = event("event_customer.subscription.created__stripe-ruby-mock.json", event_id="evt_replay")
    first = deliver(client, payload, process=django_capture_on_commit_callbacks)
    second = deliver(client, payload, process=django_capture_on_commit_callbacks)
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.content == b"already received"
    assert StripeEvent.objects.filter(stripe_id="evt_replay").count() == 1
    stored = StripeEvent.objects.get(stripe_id="evt_replay")
    assert stored.attempts == 1
    # Processing the stored row again (a duplicate job) is refused by the claim.
    assert services.process_event(stored.pk) == "skipped"


def test_an_older_event_arriving_late_changes_nothing(
    client, billing_on, org_a, eager_tasks, django_capture_on_commit_callbacks
):
    link_customer(org_a)
    created = fixture_event("event_customer.subscription.created__stripe-ruby-mock.json")["created"]
    # Stripe sent "deleted" earlier than "created" (its created time is older): delivered last.
    deliver(
        client,
        event("event_customer.subscription.created__stripe-ruby-mock.json", event_id="evt_a"),
        process=django_capture_on_commit_callbacks,
    )
    deliver(
        client,
        event("event_customer.subscription.deleted__stripe-ruby-mock.json", event_id="evt_b"),
        process=django_capture_on_commit_callbacks,
    )
    subscription = subscription_of(org_a)
    assert subscription.status == Subscription.Status.ACTIVE
    assert subscription.state_at == datetime.datetime.fromtimestamp(created, tz=datetime.UTC)
    assert StripeEvent.objects.get(stripe_id="evt_b").state == StripeEvent.State.IGNORED
    # A newer past-due state, then the older active one: past due stays.
    deliver(
        client,
        event(
            "event_customer.subscription.updated__stripe-ruby-mock.json",
            event_id="evt_c",
            created=created + 100,
            status="past_due",
        ),
        process=django_capture_on_commit_callbacks,
    )
    deliver(
        client,
        event(
            "event_customer.subscription.updated__stripe-ruby-mock.json",
            event_id="evt_d",
            created=created + 50,
            status="active",
        ),
        process=django_capture_on_commit_callbacks,
    )
    assert subscription_of(org_a).status == Subscription.Status.PAST_DUE
    # And a newer cancellation wins.
    deliver(
        client,
        event("event_customer.subscription.deleted__stripe-ruby-mock.json", event_id="evt_e", created=created + 200),
        process=django_capture_on_commit_callbacks,
    )
    assert subscription_of(org_a).status == Subscription.Status.CANCELED


def test_invoices_keep_their_newest_state(
    client, billing_on, org_a, alice, eager_tasks, django_capture_on_commit_callbacks
):
    link_customer(org_a)
    paid = event("event_invoice.paid__stripe-ruby-mock.json", event_id="evt_paid", created=2_000_000_000)
    failed = event("event_invoice.payment_failed__stripe-ruby-mock.json", event_id="evt_failed", created=1_900_000_000)
    deliver(client, paid, process=django_capture_on_commit_callbacks)
    deliver(client, failed, process=django_capture_on_commit_callbacks)
    with tenant_context(org_a):
        invoice = Invoice.objects.get()
    assert invoice.status == "paid"
    client.force_login(alice)
    page = client.get(reverse("billing", args=[org_a.slug])).content.decode()
    assert "EE1DF78D-0001" in page and "20.00 USD" in page


def test_events_before_the_customer_is_linked_are_processed_once_it_is(
    client, billing_on, org_a, eager_tasks, django_capture_on_commit_callbacks
):
    deliver(
        client,
        event("event_invoice.paid__stripe-ruby-mock.json", event_id="evt_early"),
        process=django_capture_on_commit_callbacks,
    )
    assert StripeEvent.objects.get(stripe_id="evt_early").state == StripeEvent.State.IGNORED
    completed = event(
        "event_checkout.session.completed__stripe-ruby-mock.json",
        event_id="evt_checkout",
        mode="subscription",
        subscription="sub_000000000000000000000000",
        client_reference_id=str(org_a.pk),
        metadata={"organization_id": str(org_a.pk), "plan": "pro", "interval": "monthly", "currency": "eur"},
    )
    deliver(client, completed, process=django_capture_on_commit_callbacks)
    assert StripeEvent.objects.get(stripe_id="evt_early").state == StripeEvent.State.PROCESSED
    with tenant_context(org_a):
        assert Invoice.objects.filter(stripe_id="in_000000000000000000000000").exists()
    subscription = subscription_of(org_a)
    assert (subscription.status, subscription.plan.key, subscription.stripe_customer_id) == ("active", "pro", CUSTOMER)


def test_another_organizations_customer_is_not_reached(
    client, billing_on, org_a, org_b, eager_tasks, django_capture_on_commit_callbacks
):
    link_customer(org_b, "cus_other")
    link_customer(org_a)
    deliver(
        client,
        event("event_customer.subscription.created__stripe-ruby-mock.json", event_id="evt_own"),
        process=django_capture_on_commit_callbacks,
    )
    assert subscription_of(org_a).status == Subscription.Status.ACTIVE
    assert subscription_of(org_b).status == Subscription.Status.NONE


def test_pending_events_are_queued_again_by_beat(billing_on, org_a, client, eager_tasks):
    link_customer(org_a)
    deliver(client, event("event_customer.subscription.created__stripe-ruby-mock.json", event_id="evt_lost"))
    stored = StripeEvent.objects.get(stripe_id="evt_lost")
    assert stored.state == StripeEvent.State.RECEIVED  # the job never ran (as if the broker was down)
    StripeEvent.objects.filter(pk=stored.pk).update(received_at=timezone.now() - datetime.timedelta(minutes=5))
    assert services.process_pending_events() == 1
    assert StripeEvent.objects.get(pk=stored.pk).state == StripeEvent.State.PROCESSED


# --- checkout and the portal -------------------------------------------------------------------------


def test_checkout_creates_a_stripe_session_naming_the_organization(client, billing_on, org_a, alice):
    with fake_stripe() as fake:
        billing_on.STRIPE_API_BASE = fake.base
        client.force_login(alice)
        response = client.post(
            reverse("billing_checkout", args=[org_a.slug]), {"plan": "pro", "interval": "monthly", "currency": "eur"}
        )
    assert response.status_code == 302 and response["Location"] == fake.checkout_url
    path, params = fake.requests[0]
    assert path == "/v1/checkout/sessions"
    assert params["mode"] == "subscription"
    assert params["client_reference_id"] == str(org_a.pk)
    assert params["line_items[0][price]"] == PRO_PRICE
    assert params["metadata[plan]"] == "pro"
    assert params["customer_email"] == alice.email
    assert params["_authorization"] == "Bearer sk_test_logicnet"


def test_a_plan_without_a_price_cannot_be_bought(client, billing_on, org_a, alice):
    client.force_login(alice)
    response = client.post(
        reverse("billing_checkout", args=[org_a.slug]),
        {"plan": "pro", "interval": "yearly", "currency": "ron"},
        follow=True,
    )
    assert "cannot be bought online" in response.content.decode()


def test_the_billing_portal_opens_for_a_linked_customer(client, billing_on, org_a, alice):
    client.force_login(alice)
    none_yet = client.post(reverse("billing_portal", args=[org_a.slug]), follow=True)
    assert "choose a plan first" in none_yet.content.decode()
    link_customer(org_a)
    with fake_stripe() as fake:
        billing_on.STRIPE_API_BASE = fake.base
        response = client.post(reverse("billing_portal", args=[org_a.slug]))
    assert response["Location"] == fake.portal_url
    assert fake.requests[0][1]["customer"] == CUSTOMER


# --- limits ---------------------------------------------------------------------------------------


def test_seats_are_refused_at_invitation_with_an_upgrade_prompt(billing_on, org_a, alice):
    # Free: 2 seats, taken by alice and bob.
    with pytest.raises(PlanLimitReached) as refused:
        invite_member(organization=org_a, actor=alice, email="carol@example.com", role=Role.MEMBER)
    assert refused.value.code == "seat_limit" and refused.value.upgrade
    assert "Upgrade your plan" in refused.value.messages[0]
    with tenant_context(org_a):
        from accounts.models import Invitation

        assert not Invitation.objects.exists()


def test_seats_are_checked_again_when_an_invitation_is_accepted(billing_on, org_a, alice):
    Plan.objects.filter(key="free").update(seats=3)
    invitation = invite_member(organization=org_a, actor=alice, email="carol@example.com", role=Role.MEMBER)
    Plan.objects.filter(key="free").update(seats=2)  # the plan shrank meanwhile
    carol = make_user("carol@example.com", "Carol")
    with pytest.raises(PlanLimitReached):
        accept_invitation(invitation=invitation, user=carol)


def test_an_upgrade_lifts_the_seat_limit(
    client, billing_on, org_a, alice, eager_tasks, django_capture_on_commit_callbacks
):
    link_customer(org_a)
    deliver(
        client,
        event("event_customer.subscription.created__stripe-ruby-mock.json", event_id="evt_up"),
        process=django_capture_on_commit_callbacks,
    )
    invite_member(organization=org_a, actor=alice, email="carol@example.com", role=Role.MEMBER)


def test_contacts_are_refused_at_create_with_an_upgrade_prompt(billing_on, org_a, alice):
    Plan.objects.filter(key="free").update(contacts=1)
    create_contact(organization=org_a, actor=alice, data={"first_name": "Ana", "last_name": "Pop"})
    with pytest.raises(PlanLimitReached) as refused:
        create_contact(organization=org_a, actor=alice, data={"first_name": "Ion", "last_name": "Pop"})
    assert refused.value.code == "contact_limit"
    assert "Upgrade your plan" in refused.value.messages[0]
    # An import asks for its whole batch at once (billing.limits.check_contacts).
    Plan.objects.filter(key="free").update(contacts=10)
    check_contacts(org_a, adding=9)
    with pytest.raises(PlanLimitReached, match="9 more fit and 10 were to be added"):
        check_contacts(org_a, adding=10)


def test_features_follow_the_plan(billing_on, org_a):
    with pytest.raises(PlanLimitReached, match="not included"):
        check_feature(org_a, "marketing")
    with tenant_context(org_a):
        Subscription.objects.filter(organization=org_a).update(
            status=Subscription.Status.ACTIVE, plan=Plan.objects.get(key="business")
        ) or Subscription.objects.create(
            organization=org_a, status=Subscription.Status.ACTIVE, plan=Plan.objects.get(key="business")
        )
    check_feature(org_a, "marketing")
    check_feature(org_a, "api")


def test_an_announcement_for_a_plan_reaches_its_organizations(billing_on, org_a, org_b):
    from announcements.services import _plan_organizations
    from billing.selectors import organizations_on_plan

    with tenant_context(org_a):
        Subscription.objects.create(
            organization=org_a, status=Subscription.Status.ACTIVE, plan=Plan.objects.get(key="pro")
        )
    among = [org_a.pk, org_b.pk]
    assert organizations_on_plan("pro", among) == {org_a.pk}
    assert organizations_on_plan("free", among) == {org_b.pk}
    assert _plan_organizations("pro", among) == {org_a.pk}  # registered by billing's AppConfig


# --- grace period and read-only mode ----------------------------------------------------------------


def _past_due(organization, days: int) -> None:
    subscription = subscription_of(organization)
    with tenant_context(organization):
        Subscription.objects.filter(pk=subscription.pk).update(
            status=Subscription.Status.PAST_DUE,
            plan=Plan.objects.get(key="pro"),
            stripe_customer_id=CUSTOMER,
            past_due_since=timezone.now() - datetime.timedelta(days=days),
        )


def test_past_due_within_the_grace_period_keeps_working(client, billing_on, org_a, alice):
    _past_due(org_a, days=3)
    plan = effective_plan(org_a)
    assert not plan.read_only and plan.key == "pro"
    assert role_limit(org_a) is None
    client.force_login(alice)
    page = client.get(reverse("billing", args=[org_a.slug])).content.decode()
    assert "A payment is overdue" in page


def test_after_the_grace_period_the_organization_is_read_only_and_keeps_its_data(client, billing_on, org_a, alice, bob):
    contact = create_contact(organization=org_a, actor=alice, data={"first_name": "Ana", "last_name": "Pop"})
    _past_due(org_a, days=15)
    assert effective_plan(org_a).read_only
    assert role_limit(org_a) == Role.READ_ONLY
    # Refused centrally: the role is capped where it is decided, for every page.
    client.force_login(alice)
    assert client.post(reverse("contact_create", args=[org_a.slug]), {"first_name": "Ion"}).status_code == 403
    listing = client.get(reverse("contact_list", args=[org_a.slug]))
    assert listing.status_code == 200 and "read-only because a payment is overdue" in listing.content.decode()
    detail = client.get(reverse("contact_detail", args=[org_a.slug, contact.pk]))
    assert detail.status_code == 200  # nothing deleted, everything readable
    # ...and in the services, for jobs and imports that have no page.
    with pytest.raises(PlanLimitReached) as refused:
        check_contacts(org_a, adding=1)
    assert refused.value.code == "read_only"
    # The billing page stays open to owners and admins: that is where they pay.
    assert client.get(reverse("billing", args=[org_a.slug])).status_code == 200
    with fake_stripe() as fake:
        billing_on.STRIPE_API_BASE = fake.base
        assert client.post(reverse("billing_portal", args=[org_a.slug]))["Location"] == fake.portal_url
    client.force_login(bob)
    assert client.get(reverse("billing", args=[org_a.slug])).status_code == 403


def test_a_capped_admin_keeps_the_privacy_desk(client, billing_on, org_a, alice):
    _past_due(org_a, days=30)
    client.force_login(alice)
    assert client.get(reverse("privacy_desk", args=[org_a.slug])).status_code == 200


def test_a_canceled_subscription_falls_back_to_the_free_plan_after_the_grace_period(billing_on, org_a):
    subscription = subscription_of(org_a)
    with tenant_context(org_a):
        Subscription.objects.filter(pk=subscription.pk).update(
            status=Subscription.Status.CANCELED,
            plan=Plan.objects.get(key="pro"),
            canceled_at=timezone.now() - datetime.timedelta(days=2),
        )
    assert effective_plan(org_a).key == "pro"
    with tenant_context(org_a):
        Subscription.objects.filter(pk=subscription.pk).update(canceled_at=timezone.now() - datetime.timedelta(days=20))
    plan = effective_plan(org_a)
    assert plan.key == "free" and not plan.read_only


def test_a_payment_after_read_only_lifts_it(client, billing_on, org_a, eager_tasks, django_capture_on_commit_callbacks):
    _past_due(org_a, days=20)
    assert role_limit(org_a) == Role.READ_ONLY
    deliver(
        client,
        event(
            "event_customer.subscription.updated__stripe-ruby-mock.json",
            event_id="evt_paid_again",
            created=int(time.time()),
        ),
        process=django_capture_on_commit_callbacks,
    )
    assert role_limit(org_a) is None
    assert subscription_of(org_a).past_due_since is None


# --- the page ---------------------------------------------------------------------------------------


def test_the_billing_page_shows_plan_usage_and_plans(client, billing_on, org_a, alice, django_assert_max_num_queries):
    client.force_login(alice)
    with django_assert_max_num_queries(45):
        page = client.get(reverse("billing", args=[org_a.slug]))
    text = page.content.decode()
    assert page.status_code == 200
    assert "Free" in text and "Pro" in text and "Business" in text
    assert "29.00 EUR" in text and "145.00 RON" in text
    assert 'data-plan="pro"' in text


def test_only_owners_and_admins_see_billing(client, org_a, bob, charlie):
    admin = make_user("dana@example.com", "Dana")
    make_member(org_a, admin, Role.ADMIN)
    client.force_login(admin)
    assert client.get(reverse("billing", args=[org_a.slug])).status_code == 200
    client.force_login(bob)
    assert client.get(reverse("billing", args=[org_a.slug])).status_code == 403
    client.force_login(charlie)
    assert client.get(reverse("billing", args=[org_a.slug])).status_code == 404


def test_billing_details_form_refuses_a_bad_cui(client, org_a, alice):
    client.force_login(alice)
    response = client.post(reverse("billing", args=[org_a.slug]), {"vat_id": "RO18547291", "country": "RO"})
    assert response.status_code == 400
    assert "check digit" in response.content.decode()
    response = client.post(
        reverse("billing", args=[org_a.slug]), {"vat_id": "RO18547290", "country": "RO", "legal_name": "Alpha SRL"}
    )
    assert response.status_code == 302
    with tenant_context(org_a):
        assert BillingDetails.objects.get().vat_id == "RO18547290"


def test_limits_module_documents_its_entry_points():
    assert callable(limits.check_contacts) and callable(limits.check_seats) and callable(limits.check_feature)


def test_a_consent_confirmation_refused_by_the_contact_limit_keeps_its_link(client, billing_on, org_a, alice):
    from consent.models import NoticeVersion
    from consent.services.ledger import create_purpose
    from consent.services.signup import confirmation_token, submit_signup
    from contacts.models import Contact

    Plan.objects.filter(key="free").update(contacts=0)
    purpose = create_purpose(organization=org_a, actor=alice, key="news", name="News", notice_text="Monthly news.")
    with tenant_context(org_a):
        notice = NoticeVersion.objects.get(purpose=purpose)
    signup = submit_signup(organization=org_a, purpose=purpose, notice=notice, email="ana@client.example")
    url = reverse("consent_signup_confirm", args=[org_a.slug, confirmation_token(signup)])
    response = client.post(url, follow=True)
    assert "cannot take new subscriptions at the moment" in response.content.decode()
    with tenant_context(org_a):
        assert not Contact.objects.exists()
    Plan.objects.filter(key="free").update(contacts=10)
    assert client.post(url).status_code == 302
    with tenant_context(org_a):
        assert Contact.objects.count() == 1


def test_an_event_whose_worker_died_is_handed_to_another(billing_on, org_a, client, eager_tasks):
    link_customer(org_a)
    deliver(client, event("event_customer.subscription.created__stripe-ruby-mock.json", event_id="evt_dead"))
    stored = StripeEvent.objects.get(stripe_id="evt_dead")
    long_ago = timezone.now() - datetime.timedelta(minutes=20)
    StripeEvent.objects.filter(pk=stored.pk).update(
        state=StripeEvent.State.PROCESSING, attempts=1, claimed_at=long_ago, received_at=long_ago
    )
    assert services.process_pending_events() == 1
    stored.refresh_from_db()
    assert (stored.state, stored.attempts) == (StripeEvent.State.PROCESSED, 2)
    assert subscription_of(org_a).status == Subscription.Status.ACTIVE


def test_a_feature_entry_point_shows_the_upgrade_page(rf, billing_on, org_a, alice):
    from django.contrib.messages.storage.fallback import FallbackStorage

    from billing.limits import requires_feature
    from logicnet.tenancy.roles import Actor, requires_role

    @requires_role(read=Role.MEMBER)
    @requires_feature("marketing")
    def campaigns(request, org_slug):
        from django.http import HttpResponse

        return HttpResponse("campaigns")

    assert campaigns.logicnet_roles == (Role.MEMBER, Role.MEMBER)
    request = rf.get("/")
    request.user = alice
    request.session = {}
    request._messages = FallbackStorage(request)
    request.organization = org_a
    from accounts.models import Membership

    request.membership = Membership.objects.get(organization=org_a, user=alice)
    request.actor = Actor.from_membership(request.membership, user=alice)
    with tenant_context(org_a):
        refused = campaigns(request, org_slug=org_a.slug)
    assert refused.status_code == 403
    assert "Marketing campaigns is not included in your Free plan" in refused.content.decode()
    with tenant_context(org_a):
        Subscription.objects.filter(organization=org_a).delete()
        Subscription.objects.create(
            organization=org_a, status=Subscription.Status.ACTIVE, plan=Plan.objects.get(key="pro")
        )
        assert campaigns(request, org_slug=org_a.slug).content == b"campaigns"


def test_staff_change_a_plan_through_the_service_audited(platform_db, alice):
    from django_scopes import scopes_disabled

    from billing.services import update_plan
    from logicnet.audit.models import AuditEvent

    pro = Plan.objects.get(key="pro")
    update_plan(plan=pro, actor=alice, values={"seats": 12, "key": "renamed", "monthly_eur": pro.monthly_eur})
    pro.refresh_from_db()
    assert (pro.key, pro.seats) == ("pro", 12)  # the key stays: subscriptions and prices name it
    with scopes_disabled():
        event = AuditEvent.objects.using("platform").filter(action="billing.plan_updated").latest("created_at")
    assert event.details == {"plan": "pro", "fields": ["seats"]}
    with pytest.raises(ValidationError):
        update_plan(plan=pro, actor=alice, values={"name": ""})
