"""Announcements: staff publish them in the admin; the audience sees a banner until it
dismisses it; the mail job records a delivery status per recipient over real SMTP; product
news reaches only those who consented, with a one-click unsubscribe (RFC 8058)."""

from __future__ import annotations

import pytest
from aiosmtpd.controller import Controller
from django.db import ProgrammingError, connection, transaction
from django.urls import reverse
from django_scopes import scopes_disabled

from accounts.models import User
from announcements import services
from announcements.models import Announcement, AnnouncementDelivery, AnnouncementDismissal, MarketingConsent
from logicnet.tenancy.context import platform_bypass, user_context
from tests.factories import make_user
from tests.test_admin import _verified_admin
from tests.test_breaches import BouncingMailbox


@pytest.fixture
def staff(platform_db):
    user = make_user("root@logicnet.example", "Platform Admin")
    User.objects.using("platform").filter(pk=user.pk).update(is_staff=True, is_superuser=True)
    user.refresh_from_db()
    return user


def _announcement(**values) -> Announcement:
    defaults = {
        "title_en": "Maintenance on Sunday",
        "title_ro": "Mentenanță duminică",
        "body_en": "The CRM is read-only from 02:00 to 03:00.",
        "body_ro": "CRM-ul este doar în citire între 02:00 și 03:00.",
        "send_email": False,
    }
    with platform_bypass(actor=None, reason="test: write an announcement"):
        return Announcement.objects.create(**{**defaults, **values})


def _publish(announcement: Announcement, **kwargs) -> Announcement:
    with platform_bypass(actor=None, reason="test: publish"):
        return services.publish_announcement(actor=None, announcement=announcement, **kwargs)


@pytest.fixture
def bouncing_mailbox(settings):
    """A real SMTP server that refuses one address outright (a hard bounce)."""
    box = BouncingMailbox({"bounce@refused.example"})
    controller = Controller(box, hostname=box.host, port=box.port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = box.host, box.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 5
    yield box
    controller.stop()


def test_the_web_role_may_read_announcements_but_not_write_them(db):
    with (
        pytest.raises(ProgrammingError, match="permission denied"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "INSERT INTO announcements_announcement (kind, title_en, title_ro, body_en, body_ro, organization_ids,"
            " owners_only, send_email, created_at, mail_total) VALUES"
            " ('service', 'x', 'x', 'x', 'x', '[]', false, false, now(), 0)"
        )
    assert list(Announcement.objects.all()) == []


def test_a_banner_shows_until_dismissed_then_never_again(platform_db, client, alice, org_a):
    announcement = _publish(_announcement())
    client.force_login(alice)
    page = client.get(reverse("dashboard", args=[org_a.slug]))
    assert b"Maintenance on Sunday" in page.content
    assert (
        client.get(reverse("sessions")).content.count(b'class="announcement-banner') == 1
    )  # off organization pages too
    response = client.post(
        reverse("announcement_dismiss", args=[announcement.pk]), {"next": reverse("dashboard", args=[org_a.slug])}
    )
    assert response.status_code == 302 and response["Location"] == reverse("dashboard", args=[org_a.slug])
    assert b"Maintenance on Sunday" not in client.get(reverse("dashboard", args=[org_a.slug])).content
    with user_context(alice):
        assert AnnouncementDismissal.objects.filter(user=alice).count() == 1
    # Twice, from another tab, is still once.
    assert client.post(reverse("announcement_dismiss", args=[announcement.pk])).status_code == 302
    # An htmx dismissal answers with nothing to swap in.
    other = _publish(_announcement(title_en="Second"))
    assert client.post(reverse("announcement_dismiss", args=[other.pk]), HTTP_HX_REQUEST="true").content == b""
    # In Romanian, the Romanian text.
    _publish(_announcement(title_en="Third", title_ro="A treia"))
    client.post(reverse("set_language"), {"language": "ro"})
    assert "A treia" in client.get(reverse("sessions")).content.decode()


def test_a_banner_reaches_its_audience_only(platform_db, client, alice, bob, charlie, org_a, org_b):
    named = _publish(_announcement(title_en="For Beta", organization_ids=[org_b.pk]))
    owners = _publish(_announcement(title_en="For owners"))
    with platform_bypass(actor=None, reason="test"):
        Announcement.objects.filter(pk=owners.pk).update(owners_only=True)
    owners.owners_only = True
    from django.core.cache import cache

    cache.delete(services.LIVE_CACHE_KEY)
    plan = _publish(_announcement(title_en="For the Pro plan", plan_key="pro"))
    client.force_login(bob)  # a member of A
    page = client.get(reverse("sessions")).content
    assert b"For Beta" not in page and b"For owners" not in page and b"For the Pro plan" not in page
    client.force_login(alice)  # owner of A
    page = client.get(reverse("sessions")).content
    assert b"For owners" in page and b"For Beta" not in page
    client.force_login(charlie)  # owner of B
    page = client.get(reverse("sessions")).content
    assert b"For Beta" in page and b"For owners" in page
    assert sorted(services.audience_user_ids(named)) == [charlie.pk]
    assert sorted(services.audience_user_ids(owners)) == sorted([alice.pk, charlie.pk])
    assert services.audience_user_ids(plan) == []  # billing is off here: nobody is on "pro"
    billing_resolver = services._plan_resolver
    services.register_plan_audience(lambda key, among=None: [org_a.pk] if key == "pro" else [])
    try:
        assert sorted(services.audience_user_ids(plan)) == sorted([alice.pk, bob.pk])
    finally:
        services.register_plan_audience(billing_resolver)


def test_the_announcement_mail_job_records_each_delivery(
    staff, client, alice, bob, charlie, org_a, org_b, bouncing_mailbox, eager_tasks
):
    """Published from the admin: the banner shows and the mail goes over SMTP, a delivery row
    per recipient; a recipient the server refuses is recorded as failed, and a second run
    sends nothing twice."""
    _verified_admin(client, staff)
    response = client.post(
        reverse("admin:announcements_announcement_add"),
        {
            "kind": "service",
            "title_en": "New sign-in page",
            "title_ro": "Pagină nouă de autentificare",
            "body_en": "Sign-in moves to a new page on Monday.",
            "body_ro": "Autentificarea se mută luni pe o pagină nouă.",
            "send_email": "on",
            "deliveries-TOTAL_FORMS": "0",
            "deliveries-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    with scopes_disabled():
        announcement = Announcement.objects.using("platform").get(title_en="New sign-in page")
    with platform_bypass(actor=None, reason="test: refuse one address"):
        User.objects.filter(pk=bob.pk).update(email="bounce@refused.example")
    confirm = client.get(reverse("admin:announcements_announcement_publish", args=[announcement.pk]))
    assert b"account holders" in confirm.content
    assert client.post(reverse("admin:announcements_announcement_publish", args=[announcement.pk])).status_code == 302

    message = bouncing_mailbox.wait_for(alice.email, subject="New sign-in page")
    assert "Sign-in moves to a new page on Monday." in message.get_body(preferencelist=("plain",)).get_content()
    assert message["List-Unsubscribe"] is None  # a service announcement is not marketing
    bouncing_mailbox.wait_for(charlie.email, subject="New sign-in page")
    with scopes_disabled():
        statuses = dict(
            AnnouncementDelivery.objects.using("platform")
            .filter(announcement=announcement)
            .values_list("user__email", "status")
        )
        announcement.refresh_from_db(using="platform")
    assert statuses == {
        alice.email: "sent",
        charlie.email: "sent",
        "bounce@refused.example": "failed",
        staff.email: "sent",
    }
    assert announcement.mail_finished_at is not None and announcement.mail_total == 4
    page = client.get(reverse("admin:announcements_announcement_change", args=[announcement.pk]))
    assert b"3 sent, 1 failed, 0 waiting of 4" in page.content and b"<progress" in page.content

    before = len(bouncing_mailbox.messages)
    services.send_announcement_mail(announcement_id=announcement.pk)
    assert len(bouncing_mailbox.messages) == before


def test_product_news_goes_only_to_those_who_consented(platform_db, client, alice, bob, charlie, org_a, org_b, mailbox):
    services.set_product_news(user=alice, given=True, method=MarketingConsent.Method.SETTINGS)
    services.set_product_news(user=charlie, given=True, method=MarketingConsent.Method.SETTINGS)
    with platform_bypass(actor=None, reason="test: charlie objects to marketing"):
        from django.utils import timezone

        User.objects.filter(pk=charlie.pk).update(marketing_opt_out_at=timezone.now())
    news = _publish(_announcement(kind="marketing", title_en="Pipelines are here", send_email=True))
    services.send_announcement_mail(announcement_id=news.pk)
    message = mailbox.wait_for(alice.email, subject="Pipelines are here")
    assert [recipients for recipients, _message in mailbox.messages] == [[alice.email]]
    # RFC 8058: the mail client's own button POSTs to the link, which withdraws at once.
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = message["List-Unsubscribe"].strip().strip("<>")
    assert link in message.get_body(preferencelist=("plain",)).get_content()
    path = link.split("://", 1)[1].split("/", 1)[1]
    anonymous = client.__class__(enforce_csrf_checks=True)
    assert anonymous.get("/" + path).status_code == 200  # a link scanner changes nothing
    assert services.wants_product_news(alice)
    assert anonymous.post("/" + path, {"List-Unsubscribe": "One-Click"}).status_code == 200
    assert not services.wants_product_news(alice)
    with user_context(alice):
        assert MarketingConsent.objects.filter(user=alice).order_by("-recorded_at").first().method == "one_click"
    assert anonymous.post("/product-news/unsubscribe/forged-token/").status_code == 404
    # The banner of product news follows the same consent.
    client.force_login(bob)
    assert b"Pipelines are here" not in client.get(reverse("sessions")).content


def test_the_product_news_setting(client, alice):
    client.force_login(alice)
    assert b"Yes, email me news" in client.get(reverse("product_news")).content
    client.post(reverse("product_news"), {"product_news": "on"})
    assert services.wants_product_news(alice)
    client.post(reverse("product_news"), {})
    assert not services.wants_product_news(alice)
    with user_context(alice):
        assert list(MarketingConsent.objects.order_by("recorded_at", "pk").values_list("given", flat=True)) == [
            True,
            False,
        ]
