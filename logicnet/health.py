"""/healthz: database, Redis and the worker's heartbeat. 503 when any is down."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse

HEARTBEAT_KEY = "worker-heartbeat"


def record_worker_heartbeat() -> None:
    cache.set(HEARTBEAT_KEY, time.time(), timeout=None)


def _check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return "ok"


def _check_redis() -> str:
    ping = getattr(cache, "ping", None)
    if ping is not None:  # logicnet.cache: ask Redis itself, not the in-memory stand-in
        ping()
        return "ok"
    cache.set("healthz-probe", "1", timeout=10)
    return "ok" if cache.get("healthz-probe") == "1" else "no answer"


def _check_worker() -> str:
    beat = cache.get(HEARTBEAT_KEY)
    if beat is None:
        return "no heartbeat yet"
    age = time.time() - float(beat)
    return "ok" if age <= settings.WORKER_HEARTBEAT_MAX_AGE else f"last heartbeat {age:.0f}s ago"


def healthz(request):
    checks = {}
    for name, check in (("database", _check_database), ("redis", _check_redis), ("worker", _check_worker)):
        try:
            checks[name] = check()
        except Exception as exc:
            checks[name] = f"error: {exc.__class__.__name__}"
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks}, status=200 if healthy else 503
    )
