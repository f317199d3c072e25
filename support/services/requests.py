"""The support inbox: an account holder opens a request, staff answer it, the user is told.

Every text is sealed with the platform key, bound to its request (or, for the subject, to its
user), and the screenshot is sealed the same way in a file under SUPPORT_FILES_DIR: the
database and the data folder hold no readable word of the correspondence. The user's rows
are written acting for that user (a row policy keyed by the acting user); staff write from
the admin process, whose platform role sees every request.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from logicnet.audit.services import record_event
from logicnet.encryption.fields import open_platform_field, seal_platform_field
from logicnet.encryption.keys import open_platform_value, seal_platform_value
from logicnet.tenancy.context import active_alias, user_context
from support.models import SupportMessage, SupportRequest

log = logging.getLogger(__name__)

MAX_SUBJECT = 200
MAX_BODY = 10_000
MAX_SCREENSHOT_BYTES = 5 * 1024 * 1024
# Recognised by their first bytes, never by the name or the type the browser claims.
SCREENSHOT_SIGNATURES = {
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
}


@dataclass(frozen=True)
class Screenshot:
    content: bytes
    content_type: str


def read_screenshot(upload) -> Screenshot:
    """Validate an upload: at most MAX_SCREENSHOT_BYTES, a PNG, JPEG or WebP by content."""
    if upload.size > MAX_SCREENSHOT_BYTES:
        raise ValidationError(_("The screenshot is larger than 5 MB."), code="too_large")
    content = upload.read(MAX_SCREENSHOT_BYTES + 1)
    if len(content) > MAX_SCREENSHOT_BYTES:
        raise ValidationError(_("The screenshot is larger than 5 MB."), code="too_large")
    content_type = next((t for sig, t in SCREENSHOT_SIGNATURES.items() if content.startswith(sig)), None)
    if content_type is None and content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        content_type = "image/webp"
    if content_type is None:
        raise ValidationError(_("The screenshot must be a PNG, JPEG or WebP image."), code="type")
    return Screenshot(content=content, content_type=content_type)


def files_dir() -> Path:
    return Path(settings.SUPPORT_FILES_DIR)


def screenshot_path(message_id: int) -> Path:
    return files_dir() / f"{message_id}.sealed"


def _associated_data(message: SupportMessage) -> bytes:
    return f"support.screenshot|{message.pk}|{message.request_id}".encode()


def _store_screenshot(message: SupportMessage, screenshot: Screenshot) -> None:
    sealed = seal_platform_value(screenshot.content, associated_data=_associated_data(message))
    path = screenshot_path(message.pk)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{time.monotonic_ns()}.partial")
    partial.write_text(sealed, encoding="ascii")
    partial.replace(path)


def open_screenshot(message: SupportMessage) -> bytes:
    return open_platform_value(
        screenshot_path(message.pk).read_text(encoding="ascii"), associated_data=_associated_data(message)
    )


def delete_orphan_screenshots() -> int:
    """Screenshot files whose message is gone (its thread past retention, the account
    erased): deleted. Beat, daily; the worker's platform role sees every message id."""
    from logicnet.tenancy.context import platform_reads

    folder = files_dir()
    if not folder.is_dir():
        return 0
    found = {}
    for path in folder.glob("*.sealed"):
        if path.stem.isdigit():
            found[int(path.stem)] = path
    if not found:
        return 0
    with platform_reads():
        alive = set(SupportMessage.objects.filter(pk__in=list(found)).values_list("pk", flat=True))
    gone = [path for message_id, path in found.items() if message_id not in alive]
    for path in gone:
        path.unlink(missing_ok=True)
    return len(gone)


def subject_of(request: SupportRequest) -> str:
    return open_platform_field(request, "subject").decode()


def body_of(message: SupportMessage) -> str:
    return open_platform_field(message, "body").decode()


def _clean_text(value: str, limit: int, what: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError(_("Write the %(what)s.") % {"what": what}, code="required")
    if len(value) > limit:
        raise ValidationError(_("The %(what)s is too long.") % {"what": what}, code="too_long")
    return value


def _add_message(request: SupportRequest, *, body: str, screenshot: Screenshot | None, staff=None) -> SupportMessage:
    message = SupportMessage(request=request, from_staff=staff is not None, staff_user_id=getattr(staff, "pk", None))
    seal_platform_field(message, "body", body.encode())
    if screenshot is not None:
        message.attachment_type, message.attachment_size = screenshot.content_type, len(screenshot.content)
    message.save()
    if screenshot is not None:
        _store_screenshot(message, screenshot)
    return message


def open_request(
    *,
    user,
    subject: str,
    body: str,
    organization=None,
    screenshot: Screenshot | None = None,
    ip_address: str | None = None,
) -> SupportRequest:
    subject = _clean_text(subject, MAX_SUBJECT, _("subject"))
    body = _clean_text(body, MAX_BODY, _("message"))
    with user_context(user):
        request = SupportRequest(user=user, about_organization_id=getattr(organization, "pk", organization))
        seal_platform_field(request, "subject", subject.encode())
        request.save()
        _add_message(request, body=body, screenshot=screenshot)
        record_event(
            action="support.request_opened",
            actor=user,
            target=request,
            ip_address=ip_address,
            details={"count": 1 if screenshot else 0},
        )
    return request


def add_user_message(
    *, user, request: SupportRequest, body: str, screenshot: Screenshot | None = None, ip_address: str | None = None
) -> SupportMessage:
    body = _clean_text(body, MAX_BODY, _("message"))
    with user_context(user):
        locked = SupportRequest.objects.select_for_update().get(pk=request.pk, user=user)
        message = _add_message(locked, body=body, screenshot=screenshot)
        locked.status, locked.last_activity_at = SupportRequest.Status.OPEN, message.created_at
        locked.save(update_fields=["status", "last_activity_at"])
        record_event(action="support.user_replied", actor=user, target=locked, ip_address=ip_address)
    return message


def answer_request(*, staff, request: SupportRequest, body: str, ip_address: str | None = None) -> SupportMessage:
    """Staff answer (admin process, inside its platform bypass); the user is mailed once the
    answer is committed."""
    body = _clean_text(body, MAX_BODY, _("answer"))
    alias = active_alias()
    with transaction.atomic(using=alias):
        locked = SupportRequest.objects.select_for_update().get(pk=request.pk)
        message = _add_message(locked, body=body, screenshot=None, staff=staff)
        locked.status, locked.last_activity_at = SupportRequest.Status.ANSWERED, message.created_at
        locked.save(update_fields=["status", "last_activity_at"])
        record_event(action="support.answered", actor=staff, target=locked, ip_address=ip_address)
        user_id = locked.user_id
        transaction.on_commit(lambda: _send_answer_notice(message.pk, user_id), using=alias)
    return message


def close_request(*, actor, request: SupportRequest, ip_address: str | None = None) -> None:
    alias = active_alias()
    with transaction.atomic(using=alias):
        SupportRequest.objects.filter(pk=request.pk).update(
            status=SupportRequest.Status.CLOSED, last_activity_at=timezone.now()
        )
        record_event(action="support.closed", actor=actor, target=request, ip_address=ip_address)


def _send_answer_notice(message_id: int, user_id: int) -> None:
    from kombu.exceptions import OperationalError

    from support.tasks import notify_answer

    try:
        notify_answer.delay(message_id, user_id)
    except OperationalError:
        log.warning("support message %s: the broker is unreachable; the answer is not mailed", message_id)


def mail_answer_notice(*, message_id: int, user_id: int) -> bool:
    """Tell the user an answer is waiting (a link to the thread; the answer itself stays in
    the app). Read acting for the user, whose rows these are."""
    from django.contrib.auth import get_user_model
    from django.core.mail import send_mail
    from django.template.loader import render_to_string
    from django.urls import reverse
    from django.utils import translation

    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return False
    with user_context(user):
        message = SupportMessage.objects.select_related("request").filter(pk=message_id, from_staff=True).first()
        if message is None:
            return False
        context = {
            "user": user,
            "request": message.request,
            "subject": subject_of(message.request),
            "link": settings.SITE_URL + reverse("support_request", args=[message.request_id]),
        }
    language = user.language if user.language in ("en", "ro") else "en"
    with translation.override(language):
        send_mail(
            render_to_string("support/email/answered_subject.txt", context).strip(),
            render_to_string("support/email/answered_message.txt", context),
            settings.DEFAULT_FROM_EMAIL,
            [user.email],
        )
    return True
