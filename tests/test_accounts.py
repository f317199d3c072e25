import re

import pytest
from allauth.account.models import EmailAddress
from allauth.usersessions.models import UserSession
from django.conf import settings
from django.core import mail
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django_scopes import scopes_disabled

from accounts import services, sign_in_throttle
from accounts.models import Invitation, Membership, Organization, User
from logicnet.audit.models import AuditEvent
from logicnet.client_ip import client_address, parse_trusted_proxies
from logicnet.tenancy.context import tenant_context, user_context
from tests.factories import PASSWORD, make_member, make_user

SIGNUP = {
    "full_name": "  Ioana   Popescu ",
    "email": "ioana@firma.ro",
    "password1": "a-long-enough-password-1",
    "password2": "a-long-enough-password-1",
    "company_name": "Firma SRL",
    "phone": "0721 234 567",
    "confirm_age": "on",
}


def _link(message) -> str:
    return re.search(r"https?://\S+", message.body).group(0)


def test_signup_creates_owner_organization_and_requires_verification(client, db):
    response = client.post(reverse("account_signup"), SIGNUP)
    assert response.status_code == 302
    user = User.objects.get(email="ioana@firma.ro")
    assert user.full_name == "Ioana Popescu"
    assert user.phone == "+40721234567"
    assert user.age_confirmed_at is not None
    # The 16+ confirmation stays; the current privacy policy version is accepted, and recorded.
    assert user.privacy_policy_version == "1"
    with user_context(user):  # the user's own rows (TENANCY_USER_OWNED_MODELS)
        assert [a.version.number for a in user.policy_acceptances.all()] == [1]
    membership = Membership.objects.get(user=user)
    assert membership.role == "owner"
    assert membership.organization.name == "Firma SRL"
    # Addresses are visible to the web role only for the acting user.
    with user_context(user):
        assert not EmailAddress.objects.get(user=user).verified
    # Not verified yet: signing in is refused until the link in the mail is followed.
    assert len(mail.outbox) == 1
    other = Client()
    other.post(reverse("account_login"), {"login": "ioana@firma.ro", "password": SIGNUP["password1"]})
    assert other.get(reverse("dashboard", args=[membership.organization.slug])).status_code == 302
    assert other.get(reverse("home")).status_code == 302


def test_signup_rejects_minors_and_bad_phones_keeping_input(client, db):
    data = {**SIGNUP, "phone": "12", "confirm_age": ""}
    response = client.post(reverse("account_signup"), data)
    assert response.status_code == 200
    form = response.context["form"]
    assert "confirm_age" in form.errors
    assert "phone" in form.errors
    assert b"Firma SRL" in response.content  # what was typed is kept
    assert not User.objects.filter(email="ioana@firma.ro").exists()


def test_invitation_round_trip(client, alice, org_a, django_capture_on_commit_callbacks):
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("member_invite", args=[org_a.slug]), {"email": "New@Example.com", "role": "admin"}
        )
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = _link(mail.outbox[0])
    assert org_a.name in mail.outbox[0].subject
    newcomer = make_user("new@example.com", "New Comer")
    invitee = Client()
    invitee.force_login(newcomer)
    path = link.replace(settings.SITE_URL, "")
    assert invitee.get(path).status_code == 200
    response = invitee.post(path)
    assert response.status_code == 302
    assert Membership.objects.get(user=newcomer, organization=org_a).role == "admin"
    # The same link cannot be used twice.
    assert invitee.post(path).status_code == 400


def test_invitation_link_tampered_or_expired(client, alice, org_a, settings):
    client.force_login(alice)
    assert client.get(reverse("invitation_accept", args=["not-a-token"])).status_code == 400
    invitation = services.invite_member(organization=org_a, actor=alice, email="x@example.com", role="member")
    token = services.invitation_token(invitation)
    settings.INVITATION_MAX_AGE_DAYS = -1
    response = client.get(reverse("invitation_accept", args=[token]))
    assert response.status_code == 400
    assert b"expired" in response.content


def test_cannot_invite_existing_member(alice, bob, org_a):
    with pytest.raises(ValidationError):
        services.invite_member(organization=org_a, actor=alice, email=bob.email, role="member")


def test_last_owner_cannot_leave_or_be_demoted(alice, org_a):
    owner = Membership.objects.get(user=alice, organization=org_a)
    with pytest.raises(ValidationError):
        services.remove_member(organization=org_a, actor=alice, membership=owner)
    with pytest.raises(ValidationError):
        services.change_member_role(organization=org_a, actor=alice, membership=owner, role="member")
    assert Membership.objects.get(pk=owner.pk).role == "owner"


def test_owner_can_step_down_when_another_owner_exists(alice, bob, org_a):
    bob_membership = Membership.objects.get(user=bob, organization=org_a)
    services.change_member_role(organization=org_a, actor=alice, membership=bob_membership, role="owner")
    mine = Membership.objects.get(user=alice, organization=org_a)
    services.change_member_role(organization=org_a, actor=alice, membership=mine, role="admin")
    assert Membership.objects.get(pk=mine.pk).role == "admin"


def test_admin_cannot_make_owners(alice, bob, org_a):
    carol = make_user("carol@example.com", "Carol")
    make_member(org_a, carol, "admin")
    bob_membership = Membership.objects.get(user=bob, organization=org_a)
    client = Client()
    client.force_login(carol)
    client.post(reverse("member_role", args=[org_a.slug, bob_membership.pk]), {"role": "owner"})
    assert Membership.objects.get(pk=bob_membership.pk).role == "member"


def test_member_role_changes_are_audited(client, alice, bob, org_a):
    client.force_login(alice)
    membership = Membership.objects.get(user=bob, organization=org_a)
    client.post(reverse("member_role", args=[org_a.slug, membership.pk]), {"role": "read_only"})
    assert Membership.objects.get(pk=membership.pk).role == "read_only"
    with tenant_context(org_a):
        event = AuditEvent.objects.filter(action="member.role_changed").get()
    assert event.details == {"from": "member", "to": "read_only"}


def test_removed_member_loses_access_and_sessions_for_that_org(alice, bob, org_a, django_capture_on_commit_callbacks):
    bob_client = Client()
    assert bob_client.post(reverse("account_login"), {"login": bob.email, "password": PASSWORD}).status_code == 302
    assert bob_client.get(reverse("dashboard", args=[org_a.slug])).status_code == 200
    with user_context(bob):
        assert UserSession.objects.filter(user=bob).count() == 1
    alice_client = Client()
    alice_client.force_login(alice)
    membership = Membership.objects.get(user=bob, organization=org_a)
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post(reverse("member_remove", args=[org_a.slug, membership.pk]))
    assert not Membership.objects.filter(pk=membership.pk).exists()
    # The session that worked in organization A has ended: bob is signed out.
    with user_context(bob):
        assert not UserSession.objects.filter(user=bob).exists()
    response = bob_client.get(reverse("dashboard", args=[org_a.slug]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_sessions_page_lists_and_revokes(alice, org_a):
    first, second = Client(HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0"), Client()
    for c in (first, second):
        assert c.post(reverse("account_login"), {"login": alice.email, "password": PASSWORD}).status_code == 302
        c.get(reverse("home"))
    page = first.get(reverse("sessions"))
    assert page.status_code == 200
    assert b"Firefox" in page.content
    with user_context(alice):
        sessions = list(UserSession.objects.filter(user=alice))
    assert len(sessions) == 2
    current_key = first.session.session_key
    other = next(s for s in sessions if s.session_key != current_key)
    assert first.post(reverse("sessions"), {"session": other.pk}).status_code == 302
    assert second.get(reverse("home")).status_code == 302
    assert second.get(reverse("home"))["Location"].startswith(reverse("account_login"))
    # Someone else's session id is a 404, not a revocation.
    intruder = make_user("mallory@example.net", "Mallory")
    c = Client()
    c.force_login(intruder)
    with user_context(alice):
        mine = UserSession.objects.get(user=alice)
    assert c.post(reverse("sessions"), {"session": mine.pk}).status_code == 404
    with user_context(alice):
        assert UserSession.objects.filter(pk=mine.pk).exists()


def test_failed_sign_ins_are_throttled_with_a_clear_message(client, alice):
    for _ in range(5):
        response = client.post(reverse("account_login"), {"login": alice.email, "password": "wrong"})
        assert response.status_code == 200
    response = client.post(reverse("account_login"), {"login": alice.email, "password": PASSWORD})
    assert response.status_code in (200, 429)
    assert b"Too many failed" in response.content
    assert "_auth_user_id" not in client.session


def test_user_can_create_and_switch_organizations(client, alice, org_a):
    client.force_login(alice)
    response = client.post(reverse("organization_create"), {"name": "Second Firm"})
    second = Organization.objects.get(name="Second Firm")
    assert response["Location"] == reverse("dashboard", args=[second.slug])
    page = client.get(reverse("dashboard", args=[org_a.slug]))
    assert b"Second Firm" in page.content  # the switcher lists both
    assert b"Alpha SRL" in page.content


def test_invitations_are_tenant_scoped(alice, charlie, org_a, org_b):
    services.invite_member(organization=org_a, actor=alice, email="a@example.com", role="member")
    services.invite_member(organization=org_b, actor=charlie, email="b@example.com", role="member")
    with tenant_context(org_b):
        assert list(Invitation.objects.values_list("email", flat=True)) == ["b@example.com"]


def test_organization_settings_admin_only_and_audited(client, alice, bob, org_a):
    url = reverse("organization_settings", args=[org_a.slug])
    client.force_login(bob)
    assert client.get(url).status_code == 403
    client.force_login(alice)
    assert client.get(url).status_code == 200
    response = client.post(url, {"name": "Alpha Renamed", "country": "RO", "require_two_factor": "on"})
    assert response.status_code == 302
    org_a.refresh_from_db()
    assert org_a.name == "Alpha Renamed"
    assert org_a.require_two_factor
    with tenant_context(org_a):
        assert AuditEvent.objects.filter(action="organization.settings_changed").exists()


def test_signup_through_an_invitation_needs_no_company(client, alice, org_a):
    invitation = services.invite_member(organization=org_a, actor=alice, email="joiner@example.com", role="member")
    next_url = reverse("invitation_accept", args=[services.invitation_token(invitation)])
    data = {**SIGNUP, "email": "joiner@example.com", "company_name": "", "next": next_url}
    response = client.post(reverse("account_signup"), data)
    assert response.status_code == 302, response.context["form"].errors
    joiner = User.objects.get(email="joiner@example.com")
    assert not Membership.objects.filter(user=joiner).exists()  # no organization of their own
    # Without an invitation the company name is required.
    response = client.post(reverse("account_signup"), {**SIGNUP, "email": "solo@example.com", "company_name": ""})
    assert response.status_code == 200
    assert "company_name" in response.context["form"].errors


# --- Invitations belong to the invited address ------------------------------------------------


def _invite(organization, actor, email: str, role: str = "member") -> str:
    invitation = services.invite_member(organization=organization, actor=actor, email=email, role=role)
    return reverse("invitation_accept", args=[services.invitation_token(invitation)])


def _pending(organization) -> list[str]:
    with tenant_context(organization):
        return list(Invitation.objects.filter(accepted_at=None, revoked_at=None).values_list("email", flat=True))


def test_invitation_is_refused_to_an_account_with_another_address(alice, org_a):
    path = _invite(org_a, alice, "invited@example.com")
    mallory = make_user("mallory@example.net", "Mallory")
    client = Client()
    client.force_login(mallory)
    page = client.get(path)
    assert page.status_code == 403
    assert b"another email address" in page.content
    assert b'class="topbar"' in page.content  # the product's layout, not a bare error
    assert client.post(path).status_code == 403
    assert not Membership.objects.filter(user=mallory, organization=org_a).exists()
    # Not used up: the invited person can still accept it.
    assert _pending(org_a) == ["invited@example.com"]
    invitee = Client()
    invitee.force_login(make_user("Invited@Example.com", "Invited"))
    assert invitee.post(path).status_code == 302
    assert _pending(org_a) == []


def test_read_only_member_cannot_use_someone_elses_invitation(alice, org_a):
    reader = make_user("reader@example.com", "Reader")
    make_member(org_a, reader, "read_only")
    path = _invite(org_a, alice, "future.admin@example.com", role="admin")
    client = Client()
    client.force_login(reader)
    assert client.post(path).status_code == 403
    assert Membership.objects.get(user=reader, organization=org_a).role == "read_only"
    assert _pending(org_a) == ["future.admin@example.com"]


def test_an_unverified_invited_address_is_not_enough(alice, org_a):
    path = _invite(org_a, alice, "claimed@example.com")
    # Anyone can type an address into an account; only confirming it proves the mailbox.
    squatter = make_user("claimed@example.com", "Squatter", verified=False)
    client = Client()
    client.force_login(squatter)
    page = client.post(path)
    assert page.status_code == 403
    assert b"Confirm your address" in page.content
    assert not Membership.objects.filter(user=squatter).exists()
    assert _pending(org_a) == ["claimed@example.com"]


def test_anonymous_invitee_signs_up_with_the_fixed_address_confirms_it_and_accepts(
    alice, org_a, django_capture_on_commit_callbacks
):
    path = _invite(org_a, alice, "joiner@example.com", role="admin")
    client = Client()
    page = client.get(path)
    assert page.status_code == 200
    assert b"joiner@example.com" in page.content
    signup_url = f"{reverse('account_signup')}?next={path}"
    form_page = client.get(signup_url)
    email_field = form_page.context["form"]["email"]
    assert email_field.field.disabled
    assert email_field.value() == "joiner@example.com"
    assert re.search(rb'<input[^>]*name="email"[^>]*disabled', form_page.content)
    # A different address typed into the POST is ignored: the field is fixed.
    mail.outbox.clear()
    data = {**SIGNUP, "email": "someone.else@example.com", "company_name": "", "next": path}
    response = client.post(signup_url, data)
    assert response.status_code == 302, response.context["form"].errors
    assert not User.objects.filter(email="someone.else@example.com").exists()
    joiner = User.objects.get(email="joiner@example.com")
    assert not Membership.objects.filter(user=joiner).exists()  # not before confirming

    confirm_path = _link(mail.outbox[-1]).replace("http://testserver", "")
    assert client.get(confirm_path).status_code == 200
    response = client.post(confirm_path)
    assert response.status_code == 302
    assert response["Location"] == path  # back to the invitation once the address is confirmed
    assert client.get(path).status_code == 200
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(path)
    assert response["Location"] == reverse("dashboard", args=[org_a.slug])
    assert Membership.objects.get(user=joiner, organization=org_a).role == "admin"

    # The inviter sees who accepted: a mail, the members page and the audit log.
    assert [m.to for m in mail.outbox] == [[alice.email]]
    assert "joiner@example.com" in mail.outbox[0].body
    alice_client = Client()
    alice_client.force_login(alice)
    members_page = alice_client.get(reverse("members", args=[org_a.slug]))
    accepted = members_page.context["accepted_invitations"]
    assert [(inv.email, inv.accepted_by) for inv in accepted] == [("joiner@example.com", joiner)]
    assert b"Accepted by" in members_page.content
    with tenant_context(org_a):
        event = AuditEvent.objects.get(action="member.joined")
    assert event.actor_id == joiner.pk
    assert event.details == {"role": "admin", "invited_by": alice.pk}


def test_signing_in_from_an_invitation_comes_back_to_it(alice, org_a):
    path = _invite(org_a, alice, "existing@example.com")
    existing = make_user("existing@example.com", "Existing")
    client = Client()
    client.get(path)  # the session remembers the invitation
    response = client.post(reverse("account_login"), {"login": existing.email, "password": PASSWORD})
    assert response["Location"] == path


def test_inviting_the_same_address_again_resends_and_another_role_is_refused(
    alice, org_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = services.invite_member(organization=org_a, actor=alice, email="twice@example.com", role="member")
        again = services.invite_member(organization=org_a, actor=alice, email=" Twice@Example.com", role="member")
    assert again.pk == first.pk
    assert _pending(org_a) == ["twice@example.com"]
    assert len(mail.outbox) == 2  # sent again, with a fresh link
    with pytest.raises(ValidationError, match="already waiting"):
        services.invite_member(organization=org_a, actor=alice, email="twice@example.com", role="admin")
    # The database refuses a second pending invitation even past the service.
    with tenant_context(org_a), pytest.raises(IntegrityError), transaction.atomic():
        Invitation.objects.create(organization=org_a, email="twice@example.com", role="admin", invited_by=alice)
    # Once withdrawn, the address can be invited with another role.
    services.revoke_invitation(organization=org_a, actor=alice, invitation=first)
    services.invite_member(organization=org_a, actor=alice, email="twice@example.com", role="admin")
    with tenant_context(org_a):
        assert Invitation.objects.get(email="twice@example.com", revoked_at=None).role == "admin"


def test_inviting_twice_through_the_page_says_what_happened(client, alice, org_a):
    client.force_login(alice)
    url = reverse("member_invite", args=[org_a.slug])
    client.post(url, {"email": "page@example.com", "role": "member"})
    response = client.post(url, {"email": "page@example.com", "role": "admin"}, follow=True)
    assert b"already waiting" in response.content
    assert _pending(org_a) == ["page@example.com"]


# --- Sign-in throttling without a lockout weapon ---------------------------------------------

ATTACKER, VICTIM, OTHER = "203.0.113.5", "198.51.100.7", "192.0.2.44"
PROXY = "10.0.0.2"


def _sign_in(client: Client, email: str, password: str = PASSWORD, **headers):
    return client.post(reverse("account_login"), {"login": email, "password": password}, **headers)


def _signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def _platform_events(action: str) -> list[AuditEvent]:
    # Events with no organization: only the platform role reads them, on its own connection
    # (the tests that call this commit their data: platform_db).
    with scopes_disabled():
        return list(AuditEvent.objects.using("platform").filter(organization=None, action=action).order_by("pk"))


def _trust(settings, *proxies: str) -> None:
    settings.TRUSTED_PROXIES = parse_trusted_proxies("TRUSTED_PROXIES", proxies)


def test_thirty_wrong_passwords_from_one_address_do_not_lock_the_owner_out_elsewhere(platform_db, alice):
    attacker = Client(REMOTE_ADDR=ATTACKER)
    for _ in range(30):
        assert _sign_in(attacker, alice.email, "wrong-password").status_code == 200
    # The attacker's own address is cooling down, even with the right password (and is past
    # allauth's 30 sign-in requests a minute per address, answered in the product's layout)...
    refused = _sign_in(attacker, alice.email)
    assert refused.status_code == 429
    assert b'class="topbar"' in refused.content
    assert not _signed_in(attacker)
    # ...but the owner, elsewhere, signs in at once.
    victim = Client(REMOTE_ADDR=VICTIM)
    assert _sign_in(victim, alice.email).status_code == 302
    assert _signed_in(victim)
    # Only the wrong passwords that were checked count; the refused attempts checked nothing.
    assert [e.ip_address for e in _platform_events("auth.sign_in_failed")] == [ATTACKER] * 5
    assert [e.ip_address for e in _platform_events("auth.signed_in")] == [VICTIM]


def test_behind_a_trusted_proxy_clients_are_told_apart_by_x_forwarded_for(platform_db, settings, alice, bob):
    _trust(settings, "10.0.0.0/8")
    attacker = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"{ATTACKER}, 10.0.0.9")
    for _ in range(30):
        _sign_in(attacker, alice.email, "wrong-password")
    assert _sign_in(attacker, alice.email).status_code == 429  # the attacker's address, not the proxy's
    assert not _signed_in(attacker)
    # Same proxy address, another client behind it: not throttled.
    victim = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=VICTIM)
    assert _sign_in(victim, alice.email).status_code == 302
    # And the audit log has the clients' addresses, not the proxy's.
    assert {e.ip_address for e in _platform_events("auth.sign_in_failed")} == {ATTACKER}
    assert [e.ip_address for e in _platform_events("auth.signed_in")] == [VICTIM]
    # allauth's session records use the same address.
    with user_context(alice):
        assert UserSession.objects.get(user=alice).ip == VICTIM


def test_an_untrusted_x_forwarded_for_is_ignored(platform_db, settings, alice):
    _trust(settings, "10.0.0.0/8")  # the attacker is not one of them
    attacker = Client(REMOTE_ADDR=ATTACKER)
    for n in range(5):
        # A new made-up client address each time does not make a new client...
        _sign_in(attacker, alice.email, "wrong-password", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
    assert b"Too many failed" in _sign_in(attacker, alice.email, HTTP_X_FORWARDED_FOR="192.0.2.99").content
    assert {e.ip_address for e in _platform_events("auth.sign_in_failed")} == {ATTACKER}
    # ...and claiming to be the victim's address does not spend the victim's attempts.
    victim = Client(REMOTE_ADDR=VICTIM)
    assert _sign_in(victim, alice.email).status_code == 302


def test_wrong_passwords_from_many_addresses_cap_unknown_clients_but_not_the_owners_browser(
    platform_db, settings, alice
):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login_failed_account": "8/h/key"}
    owner_browser = Client(REMOTE_ADDR=VICTIM)
    assert _sign_in(owner_browser, alice.email).status_code == 302  # a known device from now on
    cookie = owner_browser.cookies[sign_in_throttle.KNOWN_DEVICE_COOKIE]
    assert cookie["httponly"]
    assert alice.email not in cookie.value  # the account is named by a keyed digest
    owner_browser.post(reverse("account_logout"))
    for n in range(4):  # a botnet: two guesses from each of four addresses
        bot = Client(REMOTE_ADDR=f"203.0.113.{10 + n}")
        for _ in range(2):
            _sign_in(bot, alice.email, "wrong-password")
    # The ninth guess is refused wherever it comes from, unless from a browser the owner used.
    newcomer = Client(REMOTE_ADDR=OTHER)
    assert b"Too many failed" in _sign_in(newcomer, alice.email).content
    assert len(_platform_events("auth.sign_in_failed")) == 8
    forger = Client(REMOTE_ADDR="192.0.2.45")  # a device cookie must be the server's own
    forger.cookies[sign_in_throttle.KNOWN_DEVICE_COOKIE] = cookie.value[:-3] + "abc"
    assert b"Too many failed" in _sign_in(forger, alice.email).content
    assert _sign_in(owner_browser, alice.email).status_code == 302
    assert _signed_in(owner_browser)


def _login_code(message) -> str:
    return re.search(r"^\s*([A-Z0-9]{4,}(?:-[A-Z0-9]+)*)\s*$", message.body, re.MULTILINE).group(1)


def test_a_code_mailed_to_the_account_ends_the_cool_down(alice):
    shared = Client(REMOTE_ADDR=ATTACKER)  # the owner shares the attacker's address (one office)
    for _ in range(5):
        _sign_in(shared, alice.email, "wrong-password")
    assert b"Too many failed" in _sign_in(shared, alice.email).content
    assert reverse("account_request_login_code").encode() in _sign_in(shared, alice.email).content  # the way out
    mail.outbox.clear()
    response = shared.post(reverse("account_request_login_code"), {"email": alice.email})
    assert response.status_code == 302
    response = shared.post(reverse("account_confirm_login_code"), {"code": _login_code(mail.outbox[-1])})
    assert response.status_code == 302
    assert _signed_in(shared)
    # The next password sign-in from that address works again (a new browser, same address).
    shared.post(reverse("account_logout"))
    assert _sign_in(Client(REMOTE_ADDR=ATTACKER), alice.email).status_code == 302


@pytest.mark.parametrize(
    ("remote_addr", "forwarded_for", "expected"),
    [
        (ATTACKER, None, ATTACKER),  # no proxy
        (ATTACKER, VICTIM, ATTACKER),  # the peer is not a trusted proxy: its header is its own claim
        (PROXY, VICTIM, VICTIM),
        (PROXY, f"{VICTIM}, {ATTACKER}", ATTACKER),  # right to left: the rightmost untrusted hop
        (PROXY, f"{VICTIM}, 10.1.2.3", VICTIM),  # trusted hops are skipped
        (PROXY, "10.1.2.3, 10.4.5.6", "10.1.2.3"),  # all trusted: the farthest one
        (PROXY, None, PROXY),  # the proxy's own request (a health check)
        (PROXY, f"{VICTIM}, not-an-address", PROXY),  # garbage: stop at what we can vouch for
        (PROXY, "[2001:db8::1]:443", "2001:db8::1"),
        (PROXY, "192.0.2.1:8080", "192.0.2.1"),
        ("::ffff:10.0.0.2", VICTIM, VICTIM),  # a dual-stack socket's spelling of the proxy
    ],
)
def test_client_address_is_read_right_to_left_through_trusted_proxies(remote_addr, forwarded_for, expected):
    trusted = parse_trusted_proxies("TRUSTED_PROXIES", ["10.0.0.0/8", "::1"])
    assert client_address(remote_addr=remote_addr, forwarded_for=forwarded_for, trusted=trusted) == expected


def test_without_trusted_proxies_the_forwarded_header_is_never_read():
    assert client_address(remote_addr=PROXY, forwarded_for=VICTIM, trusted=()) == PROXY


def test_a_malformed_trusted_proxy_stops_start_up():
    with pytest.raises(ImproperlyConfigured, match="TRUSTED_PROXIES"):
        parse_trusted_proxies("TRUSTED_PROXIES", ["10.0.0.0/8", "proxy.internal"])


def test_complete_signup_stores_the_phone_in_e164_whoever_calls(db):
    """The form only validates; the service stores the one normal form."""
    user = make_user("mara@firma.ro")
    services.complete_signup(
        user=user, full_name="Mara Ionescu", phone=" 0721-234-567 ", company_name="Mara SRL", ip_address=None
    )
    user.refresh_from_db()
    assert user.phone == "+40721234567"


def test_changing_the_country_starts_one_reindex_job(org_a, alice):
    from logicnet.encryption.reindex import REINDEX_JOB
    from logicnet.jobs.models import Job

    services.update_organization(
        organization=org_a, actor=alice, name=org_a.name, country="DE", require_two_factor=False
    )
    services.update_organization(
        organization=org_a, actor=alice, name=org_a.name, country="DE", require_two_factor=False
    )
    with tenant_context(org_a):
        assert list(Job.objects.values_list("kind", flat=True)) == [REINDEX_JOB]  # once: the second changed nothing


def test_sign_out_all_other_sessions_keeps_this_one_and_is_audited(platform_db, alice, bob, org_a):
    here, laptop, phone, bobs = Client(), Client(), Client(), Client()
    for c, user in ((here, alice), (laptop, alice), (phone, alice), (bobs, bob)):
        assert c.post(reverse("account_login"), {"login": user.email, "password": PASSWORD}).status_code == 302
        c.get(reverse("home"))
    page = here.get(reverse("sessions")).content.decode()
    assert "Sign out all 2 other sessions" in page
    response = here.post(reverse("sessions"), {"others": "all"})
    assert response.status_code == 302
    assert "2 other sessions were signed out." in here.get(reverse("sessions")).content.decode()
    for c in (laptop, phone):
        assert c.get(reverse("home"))["Location"].startswith(reverse("account_login"))
    assert here.get(reverse("dashboard", args=[org_a.slug])).status_code == 200
    assert bobs.get(reverse("dashboard", args=[org_a.slug])).status_code == 200  # nobody else's
    with user_context(alice):
        assert [s.session_key for s in UserSession.objects.filter(user=alice)] == [here.session.session_key]
    with scopes_disabled():
        event = AuditEvent.objects.using("platform").get(action="session.revoked_others", actor_id=alice.pk)
    assert event.details == {"count": 2}
    # With no other session left, the button is gone.
    assert 'name="others"' not in here.get(reverse("sessions")).content.decode()
