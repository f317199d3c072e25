import re

import pytest
from allauth.account.models import EmailAddress
from allauth.usersessions.models import UserSession
from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from accounts import services
from accounts.models import Invitation, Membership, Organization, User
from logicnet.audit.models import AuditEvent
from logicnet.tenancy.context import tenant_context
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
    assert user.privacy_policy_version == settings.PRIVACY_POLICY_VERSION
    membership = Membership.objects.get(user=user)
    assert membership.role == "owner"
    assert membership.organization.name == "Firma SRL"
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
    assert UserSession.objects.filter(user=bob).count() == 1
    alice_client = Client()
    alice_client.force_login(alice)
    membership = Membership.objects.get(user=bob, organization=org_a)
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post(reverse("member_remove", args=[org_a.slug, membership.pk]))
    assert not Membership.objects.filter(pk=membership.pk).exists()
    # The session that worked in organization A has ended: bob is signed out.
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
    mine = UserSession.objects.get(user=alice)
    assert c.post(reverse("sessions"), {"session": mine.pk}).status_code == 404
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
