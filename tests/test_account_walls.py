"""The rows that belong to one user (email addresses, two-factor devices and backup codes,
session records, data packages, the admin's change log), proved against the real PostgreSQL
as the application role: with a user acting, the web role sees and changes only that user's
rows; with nobody acting, none. Then the account flows that must find those rows before
anyone acts: sign-in, sign-up and the confirmation link, password reset, the admin's
sign-in with its second factor.

Each statement below is what an injected or buggy query would send.
"""

from __future__ import annotations

import re
import time
from base64 import b32encode
from collections.abc import Callable

import pyotp
import pytest
from allauth.account.models import EmailAddress, EmailConfirmation, EmailConfirmationHMAC
from allauth.usersessions.models import UserSession
from django.apps import apps
from django.conf import settings
from django.contrib.admin.models import ADDITION, LogEntry
from django.core import mail
from django.db import ProgrammingError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import two_factor
from accounts.models import AccountDataPackage, User
from accounts.selectors import confirmation_link_owner
from accounts.two_factor_models import AuthenticatorDevice, BackupCode, BackupCodeDevice
from announcements.models import AnnouncementDelivery, AnnouncementDismissal, MarketingConsent
from logicnet.tenancy.context import act_as, acting_user, request_user_block, tenant_context, user_context
from logicnet.tenancy.rls import USER_TABLES_OUTSIDE_POLICIES, tenant_models
from notices.services.policy import accept_current
from tests.factories import PASSWORD, make_user


def _fetch(sql: str, params: list | None = None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchall()


def _changed(sql: str, params: list) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _refused(sql: str, params: list) -> None:
    with pytest.raises(ProgrammingError, match="row-level security"), transaction.atomic():
        _fetch(sql + " RETURNING 1", params)


def _code(device, *, steps: int = 0) -> str:
    return pyotp.TOTP(b32encode(device.bin_key).decode()).at(int(time.time()) + steps * device.step)


def _enable(user) -> two_factor.Enrolment:
    device = two_factor.start_totp_enrolment(user=user)
    return two_factor.confirm_totp_device(user=user, token=_code(device))


# One way to make rows of each user-owned model for a user (called while acting for them);
# returns the ids made. A new user-owned model fails the tests below until it has one.
RowFactory = Callable[[User], list[int]]


def _email_confirmation(user) -> list[int]:
    address = EmailAddress.objects.get(user=user)
    return [EmailConfirmation.objects.create(email_address=address, key=f"key-{user.pk}").pk]


def _backup_rows(user, model) -> list[int]:
    _enable(user)
    return list(model.objects.values_list("pk", flat=True))  # the acting user's only


def _static_token(user) -> list[int]:
    device = StaticDevice.objects.create(user=user, name="old codes")
    return [StaticToken.objects.create(device=device, token=f"t{user.pk % 10**12}").pk]


def _user_session(user) -> list[int]:
    record = UserSession.objects.create(user=user, ip="192.0.2.1", session_key=f"session-of-{user.pk}", user_agent="x")
    return [record.pk]


USER_ROW_FACTORIES: dict[str, RowFactory] = {
    "accounts.AccountDataPackage": lambda user: [AccountDataPackage.objects.create(user=user).pk],
    "accounts.AuthenticatorDevice": lambda user: [_enable(user).device.pk],
    "accounts.BackupCodeDevice": lambda user: _backup_rows(user, BackupCodeDevice),
    "accounts.BackupCode": lambda user: _backup_rows(user, BackupCode),
    "otp_totp.TOTPDevice": lambda user: [TOTPDevice.objects.create(user=user, name="old app").pk],
    "otp_static.StaticDevice": lambda user: [StaticDevice.objects.create(user=user, name="old codes").pk],
    "otp_static.StaticToken": _static_token,
    "account.EmailAddress": lambda user: [EmailAddress.objects.get(user=user).pk],
    "account.EmailConfirmation": _email_confirmation,
    "usersessions.UserSession": _user_session,
    "admin.LogEntry": lambda user: [
        LogEntry.objects.create(user=user, object_repr="x", action_flag=ADDITION, change_message="").pk
    ],
    "notices.PolicyAcceptance": lambda user: [accept_current(user=user, audit=False).pk],
    "support.SupportRequest": lambda user: [_support_request(user).pk],
    "support.SupportMessage": lambda user: [_support_request(user).messages.get().pk],
    "announcements.AnnouncementDelivery": lambda user: [
        AnnouncementDelivery.objects.create(announcement_id=_announcement_id(), user=user).pk
    ],
    "announcements.AnnouncementDismissal": lambda user: [
        AnnouncementDismissal.objects.create(announcement_id=_announcement_id(), user=user).pk
    ],
    "announcements.MarketingConsent": lambda user: [
        MarketingConsent.objects.create(user=user, given=True, method="settings").pk
    ],
}


def _support_request(user):
    from support.services.requests import open_request

    return open_request(user=user, subject="Help", body="Please")


_committed_announcements: list[int] = []


def _announcement_id() -> int:
    """An announcement row, written as the platform writes it: the web role may not insert
    one (announcements/security.py), so it is committed through the owner's own connection
    and removed after the test (see _remove_committed_announcements)."""
    import psycopg

    params = dict(connection.get_connection_params())
    params.update(user=settings.DATABASE_OWNER["USER"], password=settings.DATABASE_OWNER["PASSWORD"] or None)
    with psycopg.connect(**params, autocommit=True) as owner:
        (pk,) = owner.execute(
            "INSERT INTO announcements_announcement (kind, title_en, title_ro, body_en, body_ro, organization_ids,"
            " owners_only, send_email, created_at, mail_total)"
            " VALUES ('service', 'x', 'x', 'x', 'x', '[]', false, false, now(), 0) RETURNING id"
        ).fetchone()
    _committed_announcements.append(pk)
    return pk


@pytest.fixture(autouse=True)
def _remove_committed_announcements():
    yield
    if not _committed_announcements:
        return
    import psycopg

    params = dict(connection.get_connection_params())
    params.update(user=settings.DATABASE_OWNER["USER"], password=settings.DATABASE_OWNER["PASSWORD"] or None)
    with psycopg.connect(**params, autocommit=True) as owner:
        owner.execute("DELETE FROM announcements_announcement WHERE id = ANY(%s)", [_committed_announcements])
    _committed_announcements.clear()


def test_every_user_owned_model_has_a_row_factory():
    assert sorted(settings.TENANCY_USER_OWNED_MODELS) == sorted(USER_ROW_FACTORIES)


@pytest.mark.parametrize("label", settings.TENANCY_USER_OWNED_MODELS)
def test_a_users_rows_are_seen_and_changed_only_while_that_user_acts(label, alice, bob):
    model = apps.get_model(label)
    table = connection.ops.quote_name(model._meta.db_table)
    with user_context(alice):
        mine = USER_ROW_FACTORIES[label](alice)
    with user_context(bob):
        theirs = USER_ROW_FACTORIES[label](bob)
    assert mine and theirs

    with user_context(alice):
        visible = {pk for (pk,) in _fetch(f"SELECT id FROM {table}")}
        assert set(mine) <= visible
        assert not visible & set(theirs)
        assert _changed(f"UPDATE {table} SET id = id WHERE id = ANY(%s)", [theirs]) == 0
        assert _changed(f"DELETE FROM {table} WHERE id = ANY(%s)", [theirs]) == 0
        # Nor can a row of ours be handed over to bob (or to bob's parent row).
        owner = _owner_column(model)
        _refused(f"UPDATE {table} SET {owner} = %s WHERE id = %s", [_owner_value(model, bob, theirs[0]), mine[0]])
    # Nobody acting: nothing at all, and nothing to delete.
    assert _fetch(f"SELECT id FROM {table}") == []
    assert _changed(f"DELETE FROM {table}", []) == 0
    with user_context(bob):
        assert set(theirs) <= {pk for (pk,) in _fetch(f"SELECT id FROM {table}")}


def _owner_column(model) -> str:
    from logicnet.tenancy.rls import user_owner_field

    return connection.ops.quote_name(user_owner_field(model).column)


def _owner_value(model, user, their_pk: int):
    """The owner column's value on bob's row: bob's id, or bob's parent row."""
    from logicnet.tenancy.rls import user_owner_field

    field = user_owner_field(model)
    if field.related_model is User:
        return user.pk
    with user_context(user):
        return getattr(model.objects.get(pk=their_pk), field.attname)


def test_another_users_address_device_or_session_cannot_be_added(alice, bob):
    """Adding a second factor or an address to someone else's account, or a session record
    that would show on their sessions page, is refused."""
    with user_context(bob):
        (bob_device,) = [_enable(bob).device.pk]
        bob_codes = BackupCodeDevice.objects.get(user=bob).pk
    with user_context(alice):
        _refused(
            'INSERT INTO account_emailaddress (user_id, email, verified, "primary") VALUES (%s, %s, true, false)',
            [bob.pk, "takeover@example.net"],
        )
        _refused(
            "INSERT INTO otp_totp_totpdevice (user_id, name, confirmed, key, step, t0, digits, tolerance, drift,"
            " last_t, throttling_failure_timestamp, throttling_failure_count, created_at, last_used_at)"
            " VALUES (%s, 'x', true, '00', 30, 0, 6, 1, 0, -1, NULL, 0, now(), NULL)",
            [bob.pk],
        )
        _refused("INSERT INTO accounts_backupcode (device_id, code_hash) VALUES (%s, 'known')", [bob_codes])
        _refused(
            "INSERT INTO usersessions_usersession (user_id, created_at, ip, last_seen_at, session_key, user_agent,"
            " data) VALUES (%s, now(), '192.0.2.9', now(), 'planted', 'x', '{}')",
            [bob.pk],
        )
        # Turning bob's second factor off: his device cannot even be found.
        assert _changed("DELETE FROM accounts_authenticatordevice WHERE user_id = %s", [bob.pk]) == 0
        assert _changed("UPDATE accounts_authenticatordevice SET confirmed = false WHERE id = %s", [bob_device]) == 0
    with user_context(bob):
        assert AuthenticatorDevice.objects.get(pk=bob_device).confirmed


def test_inside_an_organization_the_acting_user_still_sees_only_their_own_rows(org_a, alice, bob):
    """An organization's page acts for its member: a teammate's addresses and devices stay
    out of reach there too."""
    with user_context(bob):
        _enable(bob)
    with acting_user(alice), tenant_context(org_a):
        assert _fetch("SELECT user_id FROM account_emailaddress") == [(alice.pk,)]
        assert _fetch("SELECT id FROM accounts_authenticatordevice") == []
        assert _fetch("SELECT id FROM accounts_backupcode") == []


def test_the_enclosing_users_rows_come_back_after_an_organizations_block(org_a, alice):
    with user_context(alice):
        with acting_user(alice), tenant_context(org_a):
            pass
        assert _fetch("SELECT user_id FROM account_emailaddress") == [(alice.pk,)]
        with user_context(alice):
            pass
        assert _fetch("SELECT user_id FROM account_emailaddress") == [(alice.pk,)]


def test_act_as_switches_only_inside_a_user_block(alice, bob, org_a):
    assert act_as(alice) is False  # no user block: nothing changes
    assert _fetch("SELECT id FROM account_emailaddress") == []
    with user_context(None):
        assert _fetch("SELECT id FROM account_emailaddress") == []
        assert act_as(bob) is True
        assert _fetch("SELECT user_id FROM account_emailaddress") == [(bob.pk,)]
    assert _fetch("SELECT id FROM account_emailaddress") == []
    # A visitor not signed in: the request's block opens its transaction at sign-in only.
    with request_user_block(None), CaptureQueriesContext(connection) as queries:
        assert queries.captured_queries == []
        assert _fetch("SELECT id FROM account_emailaddress") == []
        assert act_as(bob) is True
        assert _fetch("SELECT user_id FROM account_emailaddress") == [(bob.pk,)]
    assert _fetch("SELECT id FROM account_emailaddress") == []
    with acting_user(alice), tenant_context(org_a):
        assert act_as(bob) is False  # an organization's block keeps its acting user
        assert _fetch("SELECT user_id FROM account_emailaddress") == [(alice.pk,)]


def test_every_table_naming_a_user_has_a_user_policy_or_a_reason(db):
    """A new model holding per-user rows is walled the day it appears, or says why not."""
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    owned = {apps.get_model(label)._meta.db_table for label in settings.TENANCY_USER_OWNED_MODELS}
    tenant_tables = {model._meta.db_table for model in tenant_models()}
    unexplained = []
    for model in apps.get_models(include_auto_created=True):
        table = model._meta.db_table
        names_user = any(getattr(f, "related_model", None) is user_model for f in model._meta.concrete_fields)
        if names_user and table not in owned | tenant_tables | set(USER_TABLES_OUTSIDE_POLICIES):
            unexplained.append(table)
    assert unexplained == []
    assert {"django_session", "accounts_user"} <= set(USER_TABLES_OUTSIDE_POLICIES)
    for table in owned:
        rows = _fetch(
            "SELECT c.relrowsecurity, c.relforcerowsecurity, array_agg(p.polname::text ORDER BY p.polname)"
            " FROM pg_class c JOIN pg_policy p ON p.polrelid = c.oid WHERE c.relname = %s"
            " GROUP BY c.relrowsecurity, c.relforcerowsecurity",
            [table],
        )
        assert rows == [(True, True, ["access_own", "owner_access", "platform_access"])], table


# --- the confirmation link's owner ------------------------------------------------------------


def test_a_confirmation_link_names_its_owner_only_when_signed_and_unconfirmed(alice):
    fresh = make_user("fresh@example.net", "Fresh", verified=False)
    with user_context(fresh):
        address = EmailAddress.objects.get(user=fresh)
    key = EmailConfirmationHMAC(address).key
    assert confirmation_link_owner(key) == fresh.pk
    # A forged or altered key is refused before the database is asked.
    assert confirmation_link_owner(key[:-2] + "xx") is None
    assert confirmation_link_owner("12") is None
    # A confirmed address names nobody (the function tells no one who owns it).
    with user_context(alice):
        alice_address = EmailAddress.objects.get(user=alice)
    assert confirmation_link_owner(EmailConfirmationHMAC(alice_address).key) is None
    # An address someone else has already confirmed cannot be confirmed again.
    with user_context(fresh):
        EmailAddress.objects.filter(pk=address.pk).update(email=alice.email)
    assert confirmation_link_owner(key) is None


# --- the flows that find a user's rows before anyone acts -------------------------------------


def _link(message) -> str:
    return re.search(r"https?://\S+", message.body).group(0).replace("http://testserver", "")


def _signed_in(client: Client) -> bool:
    return client.get(reverse("sessions")).status_code == 200


def test_sign_up_then_confirm_in_another_browser_then_sign_in(client, db):
    response = client.post(
        reverse("account_signup"),
        {
            "full_name": "Ana Pop",
            "email": "ana@firma.ro",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "company_name": "Firma Ana SRL",
            "phone": "0721 234 568",
            "confirm_age": "on",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    user = User.objects.get(email="ana@firma.ro")
    # Opened signed out, in another browser: allauth finds the address and confirms it.
    other = Client()
    confirm = _link(mail.outbox[-1])
    assert b"ana@firma.ro" in other.get(confirm).content
    assert other.post(confirm).status_code == 302
    with user_context(user):
        assert EmailAddress.objects.get(user=user).verified
    browser = Client()
    assert browser.post(reverse("account_login"), {"login": "ana@firma.ro", "password": PASSWORD}).status_code == 302
    assert _signed_in(browser)
    with user_context(user):
        assert UserSession.objects.filter(user=user).count() == 1


def test_password_reset_by_mail_then_sign_in_with_the_new_password(client, alice):
    response = client.post(reverse("account_reset_password"), {"email": alice.email})
    assert response.status_code == 302
    reset = client.get(_link(mail.outbox[-1]))
    assert reset.status_code == 302  # allauth moves the key into the session
    new_password = "a-new-long-password-42"
    done = client.post(reset["Location"], {"password1": new_password, "password2": new_password})
    assert done.status_code == 302
    browser = Client()
    assert browser.post(reverse("account_login"), {"login": alice.email, "password": new_password}).status_code == 302
    assert _signed_in(browser)


def test_sign_in_with_a_second_factor_finds_the_users_device(alice):
    device = _enable(alice).device
    browser = Client()
    assert browser.post(reverse("account_login"), {"login": alice.email, "password": PASSWORD}).status_code == 302
    # Held until the second factor: the device was found for the user who signed in.
    assert browser.get(reverse("sessions"))["Location"].startswith(reverse("two_factor_verify"))
    verified = browser.post(reverse("two_factor_verify"), {"code": _code(device, steps=1)})
    assert verified.status_code == 302
    assert _signed_in(browser)


def test_the_admin_sign_in_checks_the_administrators_second_factor(platform_db):
    admin = make_user("root@logicnet.example", "Platform Admin")
    User.objects.using("platform").filter(pk=admin.pk).update(is_staff=True, is_superuser=True)
    device = _enable(admin).device
    browser = Client()
    login = reverse("admin:login")
    # The password alone: django-otp offers the administrator's devices to choose from.
    first = browser.post(login, {"username": admin.email, "password": PASSWORD})
    assert first.status_code == 200
    assert device.persistent_id.encode() in first.content
    assert browser.get(reverse("admin:index")).status_code == 302
    credentials = {"username": admin.email, "password": PASSWORD, "otp_device": device.persistent_id}
    right = browser.post(login, {**credentials, "otp_token": _code(device, steps=1)})
    assert right.status_code == 302, right.context["form"].errors
    page = browser.get(reverse("admin:index"))
    assert page.status_code == 200
    assert b"platform administration" in page.content
    with user_context(admin):
        assert UserSession.objects.filter(user=admin).count() == 1
