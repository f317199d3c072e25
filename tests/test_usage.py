"""Logicnet's own cookies and usage data: the banner's choice (stored, recorded, changeable),
usage events only with analytics consent, the dashboard panel, and retention."""

from __future__ import annotations

import datetime

import pytest
from allauth.usersessions.models import UserSession
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from contacts.services.contacts import create_contact
from logicnet.personal_data.registry import Category, registry
from logicnet.tenancy.context import tenant_context
from logicnet.tenancy.rls import rls_models
from tests.factories import make_member, make_user
from tests.test_admin import _verified_admin
from usage.cookies import necessary_cookies
from usage.models import CookieChoice, UsageEvent
from usage.services import record_usage, sweep_usage_retention

COOKIE = settings.COOKIE_CHOICE_COOKIE_NAME
VISITOR = "0123456789abcdef0123456789abcdef"


def choose(client: Client, analytics: bool, next_url: str = "/", **extra):
    return client.post(
        reverse("cookie_settings"), {"analytics": "yes" if analytics else "no", "next": next_url}, **extra
    )


def events(organization) -> list[tuple[str, str]]:
    with tenant_context(organization):
        return list(UsageEvent.objects.order_by("occurred_at", "id").values_list("user__email", "feature"))


def banner_hidden(response) -> bool:
    html = response.content.decode()
    start = html.index('id="cookie-banner"')
    return " hidden>" in html[start : html.index(">", start) + 1]


# --- the banner and the choice ------------------------------------------------------------------


def test_the_banner_shows_on_the_sign_in_and_sign_up_pages_until_answered(client, db):
    for name in ("account_login", "account_signup"):
        response = client.get(reverse(name))
        assert response.status_code == 200
        assert not banner_hidden(response)
        assert "Accept analytics" in response.content.decode()
        assert "Necessary only" in response.content.decode()
    assert COOKIE not in response.cookies  # nothing is remembered before an answer

    response = choose(client, analytics=False, next_url=reverse("account_login"))
    assert response.status_code == 302
    assert response["Location"] == reverse("account_login")
    assert banner_hidden(client.get(reverse("account_login")))


def test_an_anonymous_answer_is_recorded_against_a_random_visitor_id(client, db):
    response = choose(client, analytics=False, HTTP_USER_AGENT="Firefox/130", REMOTE_ADDR="192.0.2.7")
    cookie = response.cookies[COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert cookie["max-age"] == settings.COOKIE_CHOICE_MAX_AGE
    version, answer, visitor = cookie.value.split(".")
    assert (version, answer, len(visitor)) == (settings.COOKIE_NOTICE_VERSION, "n", 32)

    record = CookieChoice.objects.get()
    assert record.user is None
    assert record.visitor_id == visitor
    assert record.notice_version == settings.COOKIE_NOTICE_VERSION
    assert record.analytics is False
    assert record.ip_address == "192.0.2.7"
    assert record.user_agent == "Firefox/130"

    # A change of mind is a new record for the same browser: the history stays provable.
    choose(client, analytics=True)
    assert list(CookieChoice.objects.order_by("recorded_at", "id").values_list("visitor_id", "analytics")) == [
        (visitor, False),
        (visitor, True),
    ]


def test_a_signed_in_answer_is_recorded_against_the_user(client, alice):
    client.force_login(alice)
    choose(client, analytics=True)
    assert CookieChoice.objects.get().user == alice


def test_the_banner_script_gets_json_and_the_cookie(client, db):
    response = choose(client, analytics=True, HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert response.json()["analytics"] is True
    assert response.cookies[COOKIE].value.split(".")[1] == "a"


def test_the_answer_never_redirects_off_site(client, db):
    response = choose(client, analytics=False, next_url="https://evil.example/")
    assert response["Location"] == reverse("cookie_settings")


def test_a_malformed_answer_is_refused_and_not_recorded(client, db):
    assert client.post(reverse("cookie_settings"), {"analytics": "maybe"}).status_code == 400
    assert not CookieChoice.objects.exists()


def test_a_new_notice_version_asks_again_and_allows_nothing(client, alice, org_a, settings):
    client.force_login(alice)
    client.cookies[COOKIE] = f"2020-01-01.a.{VISITOR}"
    response = client.get(reverse("contact_list", args=[org_a.slug]))
    assert not banner_hidden(response)
    assert events(org_a) == []


def test_the_footer_links_to_cookie_settings_and_the_page_lists_every_cookie(client, db):
    page = client.get(reverse("account_login")).content.decode()
    assert f'href="{reverse("cookie_settings")}" data-cookie-settings' in page
    response = client.get(reverse("cookie_settings"))
    html = response.content.decode()
    for cookie in necessary_cookies():
        assert f"<code>{cookie.name}</code>" in html


@pytest.mark.parametrize("language", ["en", "ro"])
def test_the_privacy_policy_names_every_cookie_and_the_usage_data(client, db, language):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    html = client.get(reverse("privacy_policy")).content.decode()
    assert 'id="cookies"' in html
    for cookie in necessary_cookies():
        assert f"<code>{cookie.name}</code>" in html, cookie.name
    assert "No analytics, advertising or tracking cookies" not in html


# --- usage events -------------------------------------------------------------------------------


def test_nothing_is_recorded_without_an_answer_or_after_a_refusal(client, alice, org_a):
    client.force_login(alice)
    assert client.get(reverse("contact_list", args=[org_a.slug])).status_code == 200
    choose(client, analytics=False)
    assert client.get(reverse("contact_list", args=[org_a.slug])).status_code == 200
    assert client.get(reverse("members", args=[org_a.slug])).status_code == 200
    assert events(org_a) == []


def test_with_consent_features_are_recorded_by_name_never_by_id(client, alice, org_a):
    contact = create_contact(organization=org_a, actor=alice, data={"first_name": "Ioana"})
    client.force_login(alice)
    choose(client, analytics=True)
    client.get(reverse("contact_list", args=[org_a.slug]))
    client.get(reverse("contact_detail", args=[org_a.slug, contact.pk]))
    client.get(reverse("dashboard", args=[org_a.slug]))  # not a feature: not counted
    client.get(reverse("account_privacy"))  # outside an organization: not counted
    assert events(org_a) == [(alice.email, "contacts.list"), (alice.email, "contacts.detail")]
    with tenant_context(org_a):
        assert not UsageEvent.objects.filter(feature__contains=str(contact.pk)).exists()


def test_withdrawing_consent_deletes_the_usage_data_already_recorded(client, alice, bob, org_a):
    client.force_login(alice)
    choose(client, analytics=True)
    client.get(reverse("contact_list", args=[org_a.slug]))
    record_usage(organization=org_a, user=bob, feature="companies.list")
    choose(client, analytics=False)
    assert events(org_a) == [(bob.email, "companies.list")]


def test_usage_events_are_tenant_data_under_row_level_security(alice, org_a, org_b, charlie):
    assert UsageEvent in rls_models()
    record_usage(organization=org_b, user=charlie, feature="contacts.list")
    assert events(org_a) == []
    assert events(org_b) == [(charlie.email, "contacts.list")]


def test_only_known_feature_names_are_stored(alice, org_a):
    with pytest.raises(ValueError, match="unknown feature"):
        record_usage(organization=org_a, user=alice, feature="/o/alpha/contacts/12/")


# --- the dashboard panel ------------------------------------------------------------------------


def panel(client, org) -> str:
    html = client.get(reverse("dashboard", args=[org.slug])).content.decode()
    start = html.index('class="usage-panel"')
    return html[start : html.index("</section>\n</div>", start)]


def test_the_panel_shows_my_recent_features_and_what_colleagues_use(client, alice, bob, org_a, org_b, charlie):
    carol = make_user("carol@example.com", "Carol Delta")
    make_member(org_a, carol, "member")
    record_usage(organization=org_a, user=alice, feature="contacts.list")
    record_usage(organization=org_a, user=alice, feature="contacts.detail")
    for colleague in (bob, carol):
        record_usage(organization=org_a, user=colleague, feature="tasks.mine")
        record_usage(organization=org_a, user=colleague, feature="contacts.list")
    record_usage(organization=org_a, user=bob, feature="companies.detail")  # one colleague: not suggested
    for _ in range(3):  # another organization's habits count for nothing here
        record_usage(organization=org_b, user=charlie, feature="settings.crm")

    client.force_login(alice)
    choose(client, analytics=True)
    html = panel(client, org_a)
    recent, suggested = html.split("You may also want")
    assert recent.count("Contacts") == 1 and "Contact pages" not in recent  # one page, one entry
    assert f'href="{reverse("contact_list", args=[org_a.slug])}"' in recent
    # Most used by colleagues first, then the starters; never what Alice uses already.
    assert suggested.index("My tasks") < suggested.index("Companies")
    assert "Contacts" not in suggested
    assert "CRM settings" not in suggested


def test_the_panel_suggests_only_pages_the_member_may_open(client, bob, org_a):
    client.force_login(bob)  # a member: no privacy desk, no settings
    html = panel(client, org_a)
    assert "Privacy desk" not in html
    assert "Nothing is recorded about your use" in html


# --- retention ----------------------------------------------------------------------------------


def test_retention_rules_are_declared_for_usage_and_device_data():
    assert registry.retention["usage_events"].duration == datetime.timedelta(days=396)
    assert registry.retention["cookie_choice_device"].duration == datetime.timedelta(days=90)
    for model, field in ((UsageEvent, "feature"), (CookieChoice, "ip_address"), (CookieChoice, "user_agent")):
        assert registry.retention[registry.rule_for(model, field).retention].duration is not None
    # The device data of sessions (allauth's records): classified, and kept at most 90 days.
    for field in ("ip", "user_agent"):
        rule = registry.rule_for(UserSession, field)
        assert rule.personal and rule.category == Category.DEVICE
        assert registry.retention[rule.retention].duration <= datetime.timedelta(days=90)


def test_the_sweep_applies_the_declared_rules(platform_db, alice, org_a):
    now = timezone.now()
    record_usage(organization=org_a, user=alice, feature="contacts.list", at=now - datetime.timedelta(days=400))
    record_usage(organization=org_a, user=alice, feature="tasks.mine", at=now - datetime.timedelta(days=300))
    old = CookieChoice.objects.create(
        visitor_id=VISITOR,
        notice_version="x",
        analytics=True,
        ip_address="192.0.2.1",
        user_agent="UA",
        recorded_at=now - datetime.timedelta(days=100),
    )
    ancient = CookieChoice.objects.create(
        visitor_id=VISITOR, notice_version="x", analytics=True, recorded_at=now - datetime.timedelta(days=800)
    )
    fresh = CookieChoice.objects.create(
        visitor_id=VISITOR, notice_version="x", analytics=True, ip_address="192.0.2.2", user_agent="UA"
    )

    result = sweep_usage_retention(now=now)

    assert result == {
        "usage_events_deleted": 1,
        "cookie_choices_blanked": 1,
        "cookie_choices_deleted": 1,
    }
    assert events(org_a) == [(alice.email, "tasks.mine")]
    old.refresh_from_db()
    assert (old.ip_address, old.user_agent) == (None, "")
    assert not CookieChoice.objects.filter(pk=ancient.pk).exists()
    fresh.refresh_from_db()
    assert fresh.ip_address == "192.0.2.2"
    # Idempotent: a second run finds nothing.
    assert not any(sweep_usage_retention(now=now).values())


def test_the_sweep_is_scheduled():
    entry = settings.CELERY_BEAT_SCHEDULE["usage-retention"]
    assert entry["task"] == "usage.sweep_usage_retention"


def test_answers_are_rate_limited_per_client_address(client, db, settings):
    settings.COOKIE_CHOICE_RATE_LIMIT = "2/h"
    assert choose(client, analytics=True).status_code == 302
    assert choose(client, analytics=False).status_code == 302
    refused = choose(client, analytics=True)
    assert refused.status_code == 429
    assert COOKIE not in refused.cookies
    assert CookieChoice.objects.count() == 2


@pytest.fixture
def platform_staff(platform_db):
    user = make_user("root@logicnet.example", "Platform Admin")
    User.objects.using("platform").filter(pk=user.pk).update(is_staff=True, is_superuser=True)
    user.refresh_from_db()
    return user


def test_platform_administrators_read_the_choices_and_change_none(client, platform_staff):
    CookieChoice.objects.create(visitor_id=VISITOR, notice_version="x", analytics=True)
    _verified_admin(client, platform_staff)
    page = client.get(reverse("admin:usage_cookiechoice_changelist"))
    assert page.status_code == 200
    assert VISITOR in page.content.decode()
    assert client.get(reverse("admin:usage_cookiechoice_add")).status_code == 403


def test_an_answer_given_before_signing_in_is_recorded_against_the_user_once(client, alice, org_a):
    choose(client, analytics=True)
    (anonymous,) = CookieChoice.objects.all()
    client.force_login(alice)
    client.get(reverse("dashboard", args=[org_a.slug]))
    client.get(reverse("dashboard", args=[org_a.slug]))
    records = list(CookieChoice.objects.order_by("recorded_at", "id"))
    assert [(r.user_id, r.visitor_id, r.analytics) for r in records] == [
        (None, anonymous.visitor_id, True),
        (alice.pk, anonymous.visitor_id, True),
    ]
    # An answer given while signed in is recorded once, not again by the next page.
    choose(client, analytics=False)
    client.get(reverse("dashboard", args=[org_a.slug]))
    assert CookieChoice.objects.filter(user=alice).count() == 2
