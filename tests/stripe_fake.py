"""A local fake of Stripe's HTTP API for the two calls billing makes (Checkout Sessions and
Billing Portal sessions), so Stripe's own library runs unchanged and no test reaches the
network: settings.STRIPE_API_BASE points the library here (billing/stripe_client.py).

Answers are Stripe objects built from the real Checkout Session payload in
../shared/fixtures/stripe, with the id, URL and the request's own fields filled in."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

from tests.shared_fixtures import shared_fixture

CHECKOUT_FIXTURE = "stripe/event_checkout.session.completed__stripe-ruby-mock.json"


def fixture_event(name: str) -> dict:
    return json.loads(shared_fixture(f"stripe/{name}").read_text())


class FakeStripe:
    def __init__(self):
        self.requests: list[tuple[str, dict]] = []
        self.checkout_url = "https://checkout.stripe.test/c/pay/cs_test_fake"
        self.portal_url = "https://billing.stripe.test/p/session/test_fake"
        self.base = ""
        self.sessions: list[dict] = []
        # The browser test has no Stripe page to pay on: Checkout "completes" at once and
        # sends the browser to the session's success URL, as Stripe does after payment.
        self.complete_at_once = False
        # Read here, in the test's own thread: without the shared fixtures the test is skipped
        # with its reason, not failed by an exception in the server's thread.
        self.checkout_fixture = shared_fixture(CHECKOUT_FIXTURE).read_text()

    def checkout_session(self, params: dict) -> dict:
        session = json.loads(self.checkout_fixture)["data"]["object"]
        session.update(
            id=f"cs_test_fake{len(self.sessions)}",
            mode="subscription",
            status="open",
            payment_status="unpaid",
            url=params.get("success_url") if self.complete_at_once else self.checkout_url,
            client_reference_id=params.get("client_reference_id"),
            success_url=params.get("success_url"),
            cancel_url=params.get("cancel_url"),
            customer=params.get("customer"),
            metadata={k[len("metadata[") : -1]: v for k, v in params.items() if k.startswith("metadata[")},
        )
        self.sessions.append(session)
        return session

    def portal_session(self, params: dict) -> dict:
        return {
            "id": "bps_test_fake",
            "object": "billing_portal.session",
            "customer": params.get("customer"),
            "return_url": params.get("return_url"),
            "url": self.portal_url,
            "livemode": False,
        }


@contextmanager
def fake_stripe() -> Iterator[FakeStripe]:
    fake = FakeStripe()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            params = dict(parse_qsl(self.rfile.read(length).decode()))
            fake.requests.append((self.path, {**params, "_authorization": self.headers.get("Authorization", "")}))
            if self.path == "/v1/checkout/sessions":
                body, status = fake.checkout_session(params), 200
            elif self.path == "/v1/billing_portal/sessions":
                body, status = fake.portal_session(params), 200
            else:
                body, status = {"error": {"message": "unknown path", "type": "invalid_request_error"}}, 404
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Request-Id", "req_fake")
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
