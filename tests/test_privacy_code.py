"""The public request form's second way to confirm the address: the code in the confirmation
mail, typed on the page the request was sent from (for a person reading their mail on
another device). Over real SMTP; tries limited; the honeypot's fake thank-you page and
another organization's page confirm nothing."""

from __future__ import annotations

import re
import uuid

import pytest
from django.urls import reverse

from logicnet.tenancy.context import tenant_context
from privacy.models import PrivacyRequest
from privacy.services.requests import CODE_ATTEMPTS, confirmation_code, send_request_mail

Status = PrivacyRequest.Status


@pytest.fixture(autouse=True)
def fresh_limits():
    from django.core.cache import cache

    cache.clear()


def _form(**overrides) -> dict:
    data = {
        "rights": ["access"],
        "email": "ana.pop@example.com",
        "phone": "",
        "message": "",
        "correction": "",
        "objection_scope": "",
        "website": "",
        "submission": uuid.uuid4().hex,
    }
    data.update(overrides)
    return data


def _requests(organization) -> list[PrivacyRequest]:
    with tenant_context(organization):
        return list(PrivacyRequest.objects.filter(organization=organization).order_by("received_at"))


def _send(client, organization, **overrides) -> str:
    response = client.post(reverse("public_privacy", kwargs={"org_slug": organization.slug}), _form(**overrides))
    assert response.status_code == 302
    return response["Location"]


def test_the_code_from_the_mail_confirms_the_address_on_the_sending_page(client, org_a, mailbox):
    thanks_url = _send(client, org_a)
    (stored,) = _requests(org_a)
    assert send_request_mail(organization_id=org_a.pk, request_id=stored.pk, kind="confirmation")
    message = mailbox.wait_for("ana.pop@example.com", subject="Confirm your privacy request")
    body = message.get_body(preferencelist=("plain",)).get_content()
    code = re.search(r"\b(\d{4}-\d{4})\b", body).group(1)
    assert code == confirmation_code(stored)

    page = client.get(thanks_url).content.decode()
    assert "Code from the email" in page
    wrong = client.post(thanks_url, {"code": "0000-0000" if code != "0000-0000" else "1111-1111"})
    assert wrong.status_code == 400 and _requests(org_a)[0].status == Status.AWAITING_VERIFICATION

    confirmed = client.post(thanks_url, {"code": code.replace("-", " ")})
    assert confirmed.status_code == 302 and "/privacy/requests/" in confirmed["Location"]
    (stored,) = _requests(org_a)
    assert stored.status == Status.RECEIVED and stored.email_confirmed_at is not None
    # Again: idempotent, one confirmation in the timeline.
    assert client.post(thanks_url, {"code": code}).status_code == 302
    with tenant_context(org_a):
        assert stored.events.filter(kind="email_confirmed").count() == 1


def test_tries_are_limited_per_request(client, org_a):
    thanks_url = _send(client, org_a)
    (stored,) = _requests(org_a)
    code = confirmation_code(stored)
    wrong = "1111-1111" if code != "1111-1111" else "2222-2222"
    for _ in range(CODE_ATTEMPTS):
        assert client.post(thanks_url, {"code": wrong}).status_code == 400
    # Even the right code is refused once the tries are used up.
    limited = client.post(thanks_url, {"code": code})
    assert limited.status_code == 429
    assert _requests(org_a)[0].status == Status.AWAITING_VERIFICATION


def test_a_bot_or_another_organization_confirms_nothing(client, org_a, org_b):
    # The honeypot answers with a made-up reference: no code can confirm anything.
    bot_thanks = _send(client, org_a, website="http://spam.example")
    assert _requests(org_a) == []
    assert client.post(bot_thanks, {"code": "1234-5678"}).status_code == 400

    thanks_url = _send(client, org_a)
    (stored,) = _requests(org_a)
    code = confirmation_code(stored)
    # B's thank-you page does not know A's request: the form leads back to B's privacy page.
    other = reverse("public_privacy_thanks", kwargs={"org_slug": org_b.slug})
    assert client.post(other, {"code": code}).status_code == 302
    assert _requests(org_a)[0].status == Status.AWAITING_VERIFICATION
    assert client.post(thanks_url, {"code": code}).status_code == 302
