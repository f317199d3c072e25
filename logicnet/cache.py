"""The cache backend: Django's Redis cache that keeps the site up while Redis is down.

What the cache holds here is all short-lived and rebuildable: rate-limit counters, the
once-a-minute session-activity marks, the double-submit guard of the contact form, the
worker heartbeat. None of it is worth an error page. So when Redis cannot be reached, each
operation is served by a small in-memory cache of this process instead, the outage is logged
once, and Redis is tried again every RETRY_SECONDS (not on every call, so a black-holed
server costs one connect timeout per few seconds, not one per cache call).

Rate limits therefore fail *to a local limit*, neither open nor closed: sign-ins, sign-ups
and password resets are still throttled, per process instead of across the site (with N web
processes an attacker gets at most N times the configured rate, for the length of the
outage). Failing open would let password guessing run unthrottled during an outage an
attacker might cause; failing closed would refuse every sign-in (allauth's lock, which
needs `cache.add`, would never be taken) and turn a Redis hiccup into a site-wide lockout.
"""

from __future__ import annotations

import logging
import threading
import time

import redis
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache

log = logging.getLogger(__name__)

RETRY_SECONDS = 5.0
FALLBACK_MAX_ENTRIES = 10_000


def _unreachable(exc: redis.RedisError) -> bool:
    if isinstance(exc, redis.ConnectionError | redis.TimeoutError):
        return True
    # Out of memory under `noeviction`: writes are refused, the server is still there.
    return isinstance(exc, redis.ResponseError) and str(exc).startswith("OOM")


class ResilientRedisCache(RedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._fallback = LocMemCache(
            f"redis-fallback-{id(self)}",
            {
                "TIMEOUT": params.get("TIMEOUT", 300),
                "KEY_PREFIX": params.get("KEY_PREFIX", ""),
                "VERSION": params.get("VERSION", 1),
                "OPTIONS": {"MAX_ENTRIES": FALLBACK_MAX_ENTRIES},
            },
        )
        self._down_until = 0.0
        self._lock = threading.Lock()

    def ping(self) -> None:
        """Ask Redis itself, never the fallback: for /healthz, which must report an outage."""
        self._cache.get_client(write=True).ping()

    @property
    def degraded(self) -> bool:
        return time.monotonic() < self._down_until

    def _went_down(self, exc: Exception) -> None:
        with self._lock:
            first = self._down_until == 0.0
            self._down_until = time.monotonic() + RETRY_SECONDS
        if first:
            log.error("Redis cache unreachable (%s); serving from this process's memory until it is back", exc)

    def _came_back(self) -> None:
        if self._down_until:
            with self._lock:
                self._down_until = 0.0
            log.warning("Redis cache reachable again")


def _resilient(name: str):
    redis_method = getattr(RedisCache, name)
    fallback_method = getattr(LocMemCache, name)

    def method(self: ResilientRedisCache, *args, **kwargs):
        if not self.degraded:
            try:
                result = redis_method(self, *args, **kwargs)
            except redis.RedisError as exc:
                if not _unreachable(exc):
                    raise
                self._went_down(exc)
            else:
                self._came_back()
                return result
        return fallback_method(self._fallback, *args, **kwargs)

    method.__name__ = name
    method.__doc__ = redis_method.__doc__
    return method


for _name in (
    "add",
    "get",
    "set",
    "touch",
    "delete",
    "get_many",
    "has_key",
    "incr",
    "set_many",
    "delete_many",
    "clear",
):
    setattr(ResilientRedisCache, _name, _resilient(_name))
