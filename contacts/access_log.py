"""Who opened whose contact page: GDPR accountability (Art. 5(2), 30) without slowing the page.

A detail view pushes one small record onto a Redis list (one round trip, no database
write); the beat task `contacts.flush_contact_views` drains the list in batches into the
audit log. Records hold ids only, never personal data, since Redis is not encrypted.
A batch is removed from the list only after its audit rows are committed, so a failed
drain is retried (an audit row may then be written twice, never lost).
"""

from __future__ import annotations

import datetime
import logging
import uuid
from collections import defaultdict

import redis
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from contacts.models import Contact
from logicnet.audit.services import record_event

logger = logging.getLogger(__name__)

QUEUE_KEY = "logicnet:contact-views"
LOCK_KEY = "logicnet:contact-views:drain"
LOCK_SECONDS = 60
BATCH_SIZE = 500

_client: redis.Redis | None = None


def redis_client() -> redis.Redis:
    # One client per process: redis-py pools its connections, so the push is a single
    # round trip on an already open socket.
    global _client
    if _client is None:
        _client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
    return _client


def record_contact_view(*, organization_id: int, contact_id: int, user_id: int) -> None:
    """Queue one view. A Redis failure is logged, not raised: the person asking for a page
    should not get an error because the audit queue is down, and the log says so loudly."""
    entry = f"{organization_id}:{contact_id}:{user_id}:{timezone.now().timestamp():.3f}"
    try:
        redis_client().rpush(QUEUE_KEY, entry)
    except redis.RedisError:
        logger.exception("could not queue the access audit of contact %s by user %s", contact_id, user_id)


def _parse(raw: bytes) -> tuple[int, int, int, float] | None:
    try:
        organization_id, contact_id, user_id, ts = raw.decode().split(":")
        return int(organization_id), int(contact_id), int(user_id), float(ts)
    except (ValueError, UnicodeDecodeError):
        return None


def _write_batch(entries: list[bytes]) -> int:
    by_organization: dict[int, list[tuple[int, int, float]]] = defaultdict(list)
    for raw in entries:
        parsed = _parse(raw)
        if parsed is None:
            logger.error("dropping a malformed contact view record")
            continue
        organization_id, contact_id, user_id, ts = parsed
        by_organization[organization_id].append((contact_id, user_id, ts))
    written = 0
    with transaction.atomic():
        for organization_id, views in by_organization.items():
            for contact_id, user_id, ts in views:
                viewed_at = datetime.datetime.fromtimestamp(ts, tz=datetime.UTC)
                record_event(
                    action="contact.viewed",
                    actor=user_id,
                    organization=organization_id,
                    target=Contact(pk=contact_id, organization_id=organization_id),
                    details={"viewed_at": viewed_at.isoformat()},
                )
                written += 1
    return written


def drain_contact_views(*, batch_size: int = BATCH_SIZE, max_batches: int = 100) -> int:
    """Move queued views into the audit log; returns how many were written.

    1. take a short Redis lock, so two overlapping beat runs do not write a batch twice;
    2. read a batch from the head of the list and write it in one transaction;
    3. trim it from the list only after the commit.
    """
    client = redis_client()
    token = uuid.uuid4().hex
    if not client.set(LOCK_KEY, token, nx=True, ex=LOCK_SECONDS):
        return 0
    written = 0
    try:
        for _batch in range(max_batches):
            entries = client.lrange(QUEUE_KEY, 0, batch_size - 1)
            if not entries:
                break
            written += _write_batch(entries)
            client.ltrim(QUEUE_KEY, len(entries), -1)
    finally:
        if client.get(LOCK_KEY) == token.encode():
            client.delete(LOCK_KEY)
    return written
