"""The support inbox: a user writes (a screenshot sealed at rest, its size and type checked),
staff answer from the admin, the user is mailed and reads the answer; the thread is the
user's alone and is deleted two years after its last message."""

from __future__ import annotations

import struct
import zlib
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from accounts.models import User
from logicnet.tenancy.context import platform_bypass, user_context
from support.models import SupportMessage, SupportRequest
from support.services import requests as support
from tests.factories import make_user
from tests.test_admin import _verified_admin

SUBJECT = "Import stops at row 412"
BODY = "The import of customers-2026.csv stops at row 412 with no message."


def png(width: int = 2, height: int = 2) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


@pytest.fixture(autouse=True)
def _support_files(settings, tmp_path):
    settings.SUPPORT_FILES_DIR = tmp_path / "support"


def _open(client, *, screenshot: bytes | None = None, name: str = "screen.png", organization=None):
    data = {"subject": SUBJECT, "message": BODY, "organization": str(organization.pk) if organization else ""}
    if screenshot is not None:
        data["screenshot"] = SimpleUploadedFile(name, screenshot, content_type="image/png")
    return client.post(reverse("support_inbox"), data)


def test_a_user_opens_a_request_with_a_screenshot_sealed_at_rest(client, alice, org_a, settings):
    client.force_login(alice)
    response = _open(client, screenshot=png(), organization=org_a)
    assert response.status_code == 302
    with user_context(alice):
        request = SupportRequest.objects.get(user=alice)
        message = request.messages.get()
    assert response["Location"] == reverse("support_request", args=[request.pk])
    assert request.about_organization_id == org_a.pk
    assert (message.attachment_type, message.attachment_size) == ("image/png", len(png()))
    # Nothing readable in the database or the data folder.
    with connection.cursor() as cursor, user_context(alice):
        cursor.execute("SELECT subject FROM support_supportrequest WHERE id = %s", [request.pk])
        (stored_subject,) = cursor.fetchone()
        cursor.execute("SELECT body FROM support_supportmessage WHERE id = %s", [message.pk])
        (stored_body,) = cursor.fetchone()
    assert "412" not in stored_subject and "412" not in stored_body
    stored_file = (settings.SUPPORT_FILES_DIR / f"{message.pk}.sealed").read_bytes()
    assert b"PNG" not in stored_file and b"IHDR" not in stored_file

    page = client.get(response["Location"])
    assert SUBJECT.encode() in page.content and BODY.encode() in page.content
    shot = client.get(reverse("support_screenshot", args=[message.pk]))
    assert (shot.status_code, shot["Content-Type"], shot.content) == (200, "image/png", png())
    assert SUBJECT.encode() in client.get(reverse("support_inbox")).content


def test_screenshots_are_checked_by_size_and_content(client, alice):
    client.force_login(alice)
    fake = _open(client, screenshot=b"<svg onload=alert(1)>", name="x.png")
    assert fake.status_code == 200 and b"must be a PNG, JPEG or WebP" in fake.content
    huge = _open(client, screenshot=png() + b"\0" * (5 * 1024 * 1024))
    assert huge.status_code == 200 and b"larger than 5 MB" in huge.content
    with user_context(alice):
        assert not SupportRequest.objects.exists()


def test_a_thread_is_its_users_alone(client, alice, bob):
    request = support.open_request(
        user=alice, subject=SUBJECT, body=BODY, screenshot=support.Screenshot(png(), "image/png")
    )
    with user_context(alice):
        message = request.messages.get()
    client.force_login(bob)
    assert client.get(reverse("support_request", args=[request.pk])).status_code == 404
    assert client.post(reverse("support_request", args=[request.pk]), {"message": "hi"}).status_code == 404
    assert client.get(reverse("support_screenshot", args=[message.pk])).status_code == 404
    assert SUBJECT.encode() not in client.get(reverse("support_inbox")).content
    # The database wall: acting for bob, alice's rows do not exist.
    with user_context(bob):
        assert not SupportRequest.objects.filter(pk=request.pk).exists()
        assert not SupportMessage.objects.filter(request_id=request.pk).exists()


@pytest.fixture
def staff(platform_db):
    user = make_user("root@logicnet.example", "Platform Admin")
    User.objects.using("platform").filter(pk=user.pk).update(is_staff=True, is_superuser=True)
    user.refresh_from_db()
    return user


def test_staff_answer_from_the_admin_and_the_user_is_told(client, staff, alice, mailbox, eager_tasks, settings):
    request = support.open_request(
        user=alice, subject=SUBJECT, body=BODY, screenshot=support.Screenshot(png(), "image/png")
    )
    _verified_admin(client, staff)
    inbox = client.get(reverse("admin:support_supportrequest_changelist"))
    assert inbox.status_code == 200 and alice.email.encode() in inbox.content
    thread = client.get(reverse("admin:support_request_thread", args=[request.pk]))
    assert thread.status_code == 200 and BODY.encode() in thread.content
    with user_context(alice):
        message = request.messages.get()
    shot = client.get(reverse("admin:support_request_screenshot", args=[message.pk]))
    assert shot.content == png()

    answer = "Row 412 has a date in the future; we fixed the import to say so."
    response = client.post(reverse("admin:support_request_thread", args=[request.pk]), {"message": answer})
    assert response.status_code == 302
    mail = mailbox.wait_for(alice.email, subject="Support answered your request")
    assert answer not in mail.get_body(preferencelist=("plain",)).get_content()  # the answer stays in the app
    assert f"/support/{request.pk}/" in mail.get_body(preferencelist=("plain",)).get_content()

    user = client.__class__()
    user.force_login(alice)
    page = user.get(reverse("support_request", args=[request.pk]))
    assert answer.encode() in page.content and b"Logicnet support" in page.content
    with user_context(alice):
        assert SupportRequest.objects.get(pk=request.pk).status == SupportRequest.Status.ANSWERED
    # The user replies; the request waits for Logicnet again.
    assert user.post(reverse("support_request", args=[request.pk]), {"message": "Thanks!"}).status_code == 302
    with user_context(alice):
        assert SupportRequest.objects.get(pk=request.pk).status == SupportRequest.Status.OPEN


def test_threads_are_deleted_two_years_after_their_last_message(platform_db, alice, bob, settings):
    from retention.services.sweep import sweep_platform_tables

    old = support.open_request(
        user=alice, subject="Old", body="Old question", screenshot=support.Screenshot(png(), "image/png")
    )
    recent = support.open_request(user=bob, subject="Recent", body="Recent question")
    with platform_bypass(actor=None, reason="test: age a thread"):
        SupportRequest.objects.filter(pk=old.pk).update(last_activity_at=timezone.now() - timedelta(days=731))
    with user_context(alice):
        old_message = old.messages.get()
    assert support.screenshot_path(old_message.pk).exists()
    done = sweep_platform_tables()
    assert done.get("support.SupportRequest") == 1
    assert support.delete_orphan_screenshots() == 1
    assert not support.screenshot_path(old_message.pk).exists()
    with scopes_disabled():
        assert list(SupportRequest.objects.using("platform").values_list("pk", flat=True)) == [recent.pk]
        assert not SupportMessage.objects.using("platform").filter(request_id=old.pk).exists()


def test_the_thread_is_in_the_users_access_package(platform_db, alice):
    """GDPR Art. 15: the user's own data package holds the words of the thread, not tokens."""
    from logicnet.personal_data.access import collect

    support.open_request(user=alice, subject=SUBJECT, body=BODY)
    data = collect("user", alice, audit=False)
    requests = data.sections["support.SupportRequest"]
    messages = data.sections["support.SupportMessage"]
    assert [r["subject"] for r in requests] == [SUBJECT]
    assert [m["body"] for m in messages] == [BODY]
