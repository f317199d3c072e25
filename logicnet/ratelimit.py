"""A small rate limiter on the shared cache (Redis), for pages allauth's limits do not cover.

A counter per (scope, identity) starts at the first request and expires `period` seconds
later; a request over `limit` inside that window is refused. Redis' INCR is atomic, so
concurrent workers share one count. The identity is stored as a keyed digest: a client
address is personal data and Redis is not encrypted.
"""

from __future__ import annotations

import re

from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.utils.crypto import salted_hmac

_RATE = re.compile(r"^(?P<limit>\d+)/(?P<count>\d*)(?P<unit>[smhd])$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """'30/m' -> (30, 60); '300/5m' -> (300, 300), as allauth writes its rates."""
    match = _RATE.match(rate.strip())
    if match is None:
        raise ImproperlyConfigured(f"rate limit {rate!r} is not of the form N/unit (unit s, m, h or d, e.g. 30/5m)")
    return int(match["limit"]), int(match["count"] or 1) * _SECONDS[match["unit"]]


def consume(*, scope: str, identity: str, limit: int, period: int) -> bool:
    """Count one request; True while the identity is within its limit."""
    digest = salted_hmac("logicnet.ratelimit", identity).hexdigest()
    key = f"ratelimit:{scope}:{digest}"
    cache.add(key, 0, timeout=period)
    try:
        count = cache.incr(key)
    except ValueError:
        # Expired between add() and incr(): this request opens a new window.
        cache.add(key, 1, timeout=period)
        count = 1
    return count <= limit
