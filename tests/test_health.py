"""/healthz: 200 only when the database, Redis and the worker's heartbeat are all fine; 503
naming the failing part otherwise (never a 500), and the compose healthcheck that reads it."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse

from logicnet.health import HEARTBEAT_KEY, record_worker_heartbeat


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once the socket is closed


def test_healthy_with_a_recent_heartbeat(client, db):
    record_worker_heartbeat()
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "redis": "ok", "worker": "ok"}}


def test_unavailable_without_a_heartbeat(client, db):
    record_worker_heartbeat()
    cache.delete(HEARTBEAT_KEY)
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"] == {"database": "ok", "redis": "ok", "worker": "no heartbeat yet"}


def test_unavailable_with_a_stale_heartbeat(client, db):
    age = settings.WORKER_HEARTBEAT_MAX_AGE + 30
    cache.set(HEARTBEAT_KEY, time.time() - age, timeout=None)
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    checks = response.json()["checks"]
    reported_age = re.fullmatch(r"last heartbeat (\d+)s ago", checks["worker"])
    assert reported_age, checks
    assert age <= int(reported_age[1]) <= age + 5
    assert checks["database"] == checks["redis"] == "ok"


def test_a_heartbeat_just_within_the_limit_is_fine(client, db):
    cache.set(HEARTBEAT_KEY, time.time() - settings.WORKER_HEARTBEAT_MAX_AGE + 5, timeout=None)
    assert client.get(reverse("healthz")).status_code == 200


def test_unavailable_not_500_when_redis_is_down(client, db):
    broken_cache = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
        }
    }
    with override_settings(CACHES=broken_cache):  # the cache handler reconnects on this change
        response = client.get(reverse("healthz"))
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["redis"].startswith("error: "), checks
    assert checks["worker"].startswith("error: "), checks  # the heartbeat lives in Redis too
    assert checks["database"] == "ok"


def test_healthz_is_not_redirected_to_https(client, db):
    # The container healthcheck speaks plain HTTP to gunicorn behind the TLS proxy.
    record_worker_heartbeat()
    with override_settings(SECURE_SSL_REDIRECT=True):
        assert client.get(reverse("healthz")).status_code == 200
        assert client.get(reverse("account_login")).status_code == 301


# --- the web container's healthcheck command ------------------------------------------------------


def compose_healthcheck_script() -> str:
    compose = yaml.safe_load((Path(settings.BASE_DIR) / "docker-compose.yml").read_text())
    test = compose["services"]["web"]["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"], test
    return test[3]


@pytest.fixture
def run_healthcheck(live_server, tmp_path):
    """Run the compose healthcheck's Python against the live server, as the container would."""
    script = compose_healthcheck_script()
    assert "http://127.0.0.1:8000/healthz" in script
    script = script.replace("http://127.0.0.1:8000", live_server.url)

    def run(site_url: str) -> subprocess.CompletedProcess:
        env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "SITE_URL": site_url}
        return subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=30)

    return run


@override_settings(ALLOWED_HOSTS=["crm.example.ro"])
def test_compose_healthcheck_passes_only_when_healthy(committed_db, run_healthcheck):
    record_worker_heartbeat()
    healthy = run_healthcheck("https://crm.example.ro")
    assert healthy.returncode == 0, healthy.stderr

    # The Host header is what ALLOWED_HOSTS accepts; any other host gets a 400.
    wrong_host = run_healthcheck("https://elsewhere.example.com")
    assert wrong_host.returncode != 0
    assert "400" in wrong_host.stderr

    cache.delete(HEARTBEAT_KEY)
    unhealthy = run_healthcheck("https://crm.example.ro")
    assert unhealthy.returncode != 0
    assert "503" in unhealthy.stderr
