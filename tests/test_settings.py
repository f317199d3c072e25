"""Settings: a production-like environment passes `check --deploy`, a bad one refuses to
start with a message naming the variable, and every variable read is documented."""

from __future__ import annotations

import os
import re
import runpy
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from logicnet.env import env_bool, env_int, env_list, env_str, env_url
from logicnet.stack import new_master_key

ROOT = Path(settings.BASE_DIR)
SETTINGS_FILE = ROOT / "logicnet" / "settings.py"
ENV_READING_SOURCES = [SETTINGS_FILE, ROOT / "logicnet" / "stack.py"]

# Reads of an environment variable: the typed helpers, os.environ and stack.py's `env` dict.
# A subscript followed by `=` is a write (stack.py setting a child's variable), not a read.
ENV_READS = [
    re.compile(r'\benv_(?:str|bool|int|list|url)\(\s*"(\w+)"'),
    re.compile(r'\b(?:os\.environ|env)\.(?:get|setdefault)\(\s*"(\w+)"'),
    re.compile(r'\b(?:os\.environ|env)\[\s*"(\w+)"\s*\](?!\s*=[^=])'),
]


def variables_read() -> set[str]:
    names = set()
    for path in ENV_READING_SOURCES:
        source = path.read_text()
        for pattern in ENV_READS:
            names.update(pattern.findall(source))
    return names


def production_environment(tmp_path: Path, **overrides: str | None) -> dict[str, str]:
    """A complete production-like environment, built from nothing so that the developer's
    or the test runner's own variables cannot make a check pass by accident."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "LOGICNET_DATA_DIR": str(tmp_path / "data"),
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "crm.example.ro",
        "SITE_URL": "https://crm.example.ro",
        "DATABASE_URL": settings.DATABASE_URL,
        "DATABASE_APP_PASSWORD": secrets.token_urlsafe(24),
        "REDIS_URL": settings.REDIS_URL,
        "HTTPS": "1",
        "ENCRYPTION_MASTER_KEYS": new_master_key("prod1"),
        "AUDIT_MAC_KEY": secrets.token_urlsafe(32),
    }
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def load_settings(monkeypatch, tmp_path):
    """Execute logicnet/settings.py afresh under a production-like environment (plus
    overrides; None removes a variable) and return its namespace."""

    def load(**overrides: str | None) -> dict:
        for name in variables_read():
            monkeypatch.delenv(name, raising=False)
            monkeypatch.delenv(f"{name}_FILE", raising=False)
        for name, value in production_environment(tmp_path, **overrides).items():
            monkeypatch.setenv(name, value)
        return runpy.run_path(str(SETTINGS_FILE))

    return load


# --- the whole process ------------------------------------------------------------------------


def test_deploy_check_passes_with_a_production_environment(tmp_path):
    result = manage(production_environment(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_deploy_check_fails_when_https_is_off(tmp_path):
    # The control for the test above: the same check does flag an insecure configuration.
    result = manage(production_environment(tmp_path, HTTPS="0"), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "security.W012" in output  # SESSION_COOKIE_SECURE
    assert "security.W004" in output  # SECURE_HSTS_SECONDS


def test_refuses_to_start_without_secret_key(tmp_path):
    result = manage(production_environment(tmp_path, SECRET_KEY=None), "check")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr


def test_refuses_to_start_with_a_malformed_boolean(tmp_path):
    result = manage(production_environment(tmp_path, DEBUG="maybe"), "check")
    assert result.returncode != 0
    assert "ImproperlyConfigured: DEBUG must be a boolean" in result.stderr


def test_secret_key_from_a_file_passes_the_deploy_check(tmp_path):
    secret_file = tmp_path / "secret_key"
    secret_file.write_text(secrets.token_urlsafe(50) + "\n")
    env = production_environment(tmp_path, SECRET_KEY=None, SECRET_KEY_FILE=str(secret_file))
    result = manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr


# --- the settings module -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DEBUG", "maybe", "DEBUG must be a boolean"),
        ("HTTPS", "sometimes", "HTTPS must be a boolean"),
        ("DATABASE_CONN_MAX_AGE", "abc", "DATABASE_CONN_MAX_AGE must be an integer"),
        ("EMAIL_PORT", "smtp", "EMAIL_PORT must be an integer"),
        ("SECURE_HSTS_SECONDS", "1y", "SECURE_HSTS_SECONDS must be an integer"),
        ("DATABASE_URL", "mysql://crm@db/crm", "DATABASE_URL must be a URL with scheme postgres"),
        ("REDIS_URL", "http://redis:6379/0", "REDIS_URL must be a URL with scheme redis"),
        ("LOGICNET_DB_ROLE", "root", "LOGICNET_DB_ROLE must be app or owner"),
        ("SECRET_KEY", "", "SECRET_KEY"),
        ("ALLOWED_HOSTS", "", "ALLOWED_HOSTS"),
        ("AUDIT_MAC_KEY", None, "AUDIT_MAC_KEY (or AUDIT_MAC_KEY_FILE) must be set"),
        ("AUDIT_MAC_KEY", "too-short", "AUDIT_MAC_KEY must be at least 32 characters"),
        ("AUDIT_RETENTION_MONTHS", "two years", "AUDIT_RETENTION_MONTHS must be an integer"),
        ("DATABASE_URL", None, "DATABASE_URL is not set"),
        ("REDIS_URL", None, "REDIS_URL is not set"),
        ("TRUSTED_PROXIES", "10.0.0.0/8,proxy.internal", "TRUSTED_PROXIES: 'proxy.internal' is not an IP"),
        ("RATE_LIMIT_LOGIN_FAILED", "20/m/ip,5/5m/key", "RATE_LIMIT_LOGIN_FAILED must not limit per account"),
    ],
)
def test_malformed_or_missing_value_names_the_variable(load_settings, name, value, message):
    with pytest.raises(ImproperlyConfigured, match=re.escape(message)):
        load_settings(**{name: value})


def test_trusted_proxies_are_networks(load_settings):
    assert load_settings()["TRUSTED_PROXIES"] == ()  # by default X-Forwarded-For is never read
    proxies = load_settings(TRUSTED_PROXIES="10.0.0.0/8, 2001:db8::1")["TRUSTED_PROXIES"]
    assert [str(network) for network in proxies] == ["10.0.0.0/8", "2001:db8::1/128"]


def test_application_password_is_required_over_the_network(load_settings):
    with pytest.raises(ImproperlyConfigured, match="DATABASE_APP_PASSWORD"):
        load_settings(
            DATABASE_URL="postgresql://logicnet:owner-password@db.internal:5432/logicnet", DATABASE_APP_PASSWORD=None
        )


def test_production_settings(load_settings):
    loaded = load_settings()
    assert loaded["DEBUG"] is False
    assert loaded["ALLOWED_HOSTS"] == ["crm.example.ro"]
    assert loaded["SESSION_COOKIE_SECURE"] is True
    assert loaded["CSRF_COOKIE_SECURE"] is True
    assert loaded["SECURE_SSL_REDIRECT"] is True
    assert loaded["SECURE_HSTS_SECONDS"] >= 365 * 24 * 3600
    assert loaded["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    # The application connects as the least-privilege role, not as DATABASE_URL's owner.
    database = loaded["DATABASES"]["default"]
    assert database["USER"] == "logicnet_app"
    assert database["USER"] != loaded["DATABASE_OWNER"]["USER"]


def test_https_defaults_to_on_when_debug_is_off(load_settings):
    loaded = load_settings(HTTPS=None)
    assert loaded["SESSION_COOKIE_SECURE"] is True
    assert loaded["SECURE_SSL_REDIRECT"] is True


def test_database_url_is_parsed_into_the_owner_and_the_application_role(load_settings):
    loaded = load_settings(
        DATABASE_URL="postgresql://logicnet:p%40ss@db.internal:6432/crm?sslmode=require",
        DATABASE_APP_PASSWORD="app-secret",
        DATABASE_CONN_MAX_AGE="0",
    )
    owner, app = loaded["DATABASE_OWNER"], loaded["DATABASES"]["default"]
    assert (owner["USER"], owner["PASSWORD"], owner["HOST"], owner["PORT"], owner["NAME"]) == (
        "logicnet",
        "p@ss",
        "db.internal",
        "6432",
        "crm",
    )
    assert owner["OPTIONS"] == {"sslmode": "require"}
    assert (app["USER"], app["PASSWORD"], app["HOST"], app["CONN_MAX_AGE"]) == (
        "logicnet_app",
        "app-secret",
        "db.internal",
        0,
    )


def test_secret_key_file_variant(load_settings, tmp_path):
    secret_file = tmp_path / "secret"
    secret_file.write_text("  from-a-mounted-secret-file-0123456789-abcdefghijklmnop  \n")
    loaded = load_settings(SECRET_KEY=None, SECRET_KEY_FILE=str(secret_file))
    assert loaded["SECRET_KEY"] == "from-a-mounted-secret-file-0123456789-abcdefghijklmnop"


def test_unreadable_secret_file_names_the_variable(load_settings, tmp_path):
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY_FILE: cannot read"):
        load_settings(SECRET_KEY_FILE=str(tmp_path / "missing"))


# --- logicnet/env.py -------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["1", "true", "True", "yes", "on", " ON "])
def test_env_bool_true(monkeypatch, value):
    monkeypatch.setenv("LOGICNET_TEST_FLAG", value)
    assert env_bool("LOGICNET_TEST_FLAG") is True


@pytest.mark.parametrize("value", ["0", "false", "no", "off", ""])
def test_env_bool_false(monkeypatch, value):
    monkeypatch.setenv("LOGICNET_TEST_FLAG", value)
    assert env_bool("LOGICNET_TEST_FLAG", default=True) is False


def test_env_bool_default_and_malformed(monkeypatch):
    monkeypatch.delenv("LOGICNET_TEST_FLAG", raising=False)
    assert env_bool("LOGICNET_TEST_FLAG", default=True) is True
    monkeypatch.setenv("LOGICNET_TEST_FLAG", "2")
    with pytest.raises(ImproperlyConfigured, match="LOGICNET_TEST_FLAG must be a boolean"):
        env_bool("LOGICNET_TEST_FLAG")


def test_env_int(monkeypatch):
    monkeypatch.delenv("LOGICNET_TEST_NUMBER", raising=False)
    assert env_int("LOGICNET_TEST_NUMBER", 60) == 60
    monkeypatch.setenv("LOGICNET_TEST_NUMBER", "  ")
    assert env_int("LOGICNET_TEST_NUMBER", 60) == 60
    monkeypatch.setenv("LOGICNET_TEST_NUMBER", "-5")
    assert env_int("LOGICNET_TEST_NUMBER", 60) == -5
    monkeypatch.setenv("LOGICNET_TEST_NUMBER", "1.5")
    with pytest.raises(ImproperlyConfigured, match=re.escape("LOGICNET_TEST_NUMBER must be an integer, got '1.5'")):
        env_int("LOGICNET_TEST_NUMBER", 60)


def test_env_list(monkeypatch):
    monkeypatch.delenv("LOGICNET_TEST_LIST", raising=False)
    default = ["a"]
    result = env_list("LOGICNET_TEST_LIST", default)
    assert result == ["a"]
    assert result is not default  # callers may append without changing the default
    monkeypatch.setenv("LOGICNET_TEST_LIST", " crm.example.ro, ,.example.ro ,")
    assert env_list("LOGICNET_TEST_LIST") == ["crm.example.ro", ".example.ro"]
    monkeypatch.setenv("LOGICNET_TEST_LIST", "")
    assert env_list("LOGICNET_TEST_LIST", ["a"]) == []  # set but empty means empty


def test_env_str_and_url(monkeypatch):
    monkeypatch.delenv("LOGICNET_TEST_URL", raising=False)
    assert env_str("LOGICNET_TEST_URL", "fallback") == "fallback"
    assert env_url("LOGICNET_TEST_URL", schemes=("redis",)) == ""
    monkeypatch.setenv("LOGICNET_TEST_URL", "rediss://cache.internal:6380/2")
    assert env_url("LOGICNET_TEST_URL", schemes=("redis", "rediss")) == "rediss://cache.internal:6380/2"
    monkeypatch.setenv("LOGICNET_TEST_URL", "redis-cache:6379")
    with pytest.raises(ImproperlyConfigured, match="LOGICNET_TEST_URL must be a URL with scheme redis, rediss"):
        env_url("LOGICNET_TEST_URL", schemes=("redis", "rediss"))


def test_file_variant_takes_precedence_and_is_stripped(monkeypatch, tmp_path):
    secret = tmp_path / "value"
    secret.write_text("from-file\n")
    monkeypatch.setenv("LOGICNET_TEST_SECRET", "from-environment")
    monkeypatch.setenv("LOGICNET_TEST_SECRET_FILE", str(secret))
    assert env_str("LOGICNET_TEST_SECRET") == "from-file"
    secret.write_text("42\n")
    assert env_int("LOGICNET_TEST_SECRET", 0) == 42
    monkeypatch.setenv("LOGICNET_TEST_SECRET_FILE", str(tmp_path / "absent"))
    with pytest.raises(ImproperlyConfigured, match="LOGICNET_TEST_SECRET_FILE: cannot read"):
        env_str("LOGICNET_TEST_SECRET")


# --- headers on a real page -------------------------------------------------------------------------


def csp_directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


def test_sign_in_page_carries_the_security_headers(client, db):
    response = client.get(reverse("account_login"))
    assert response.status_code == 200
    csp = csp_directives(response["Content-Security-Policy"])
    assert csp["default-src"] == ["'self'"]
    for directive in ("script-src", "style-src"):
        assert "'self'" in csp[directive]
        assert not {"'unsafe-inline'", "'unsafe-eval'", "*", "data:"} & set(csp[directive]), csp[directive]
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    csrf_cookie = response.cookies[settings.CSRF_COOKIE_NAME]
    assert csrf_cookie["httponly"] is True
    assert csrf_cookie["samesite"] == "Lax"


def test_sign_in_page_has_nothing_inline_that_the_policy_would_block(client, db):
    html = client.get(reverse("account_login")).content.decode()
    inline_scripts = re.findall(r"<script\b(?![^>]*\bsrc=)[^>]*>", html)
    assert inline_scripts == [], inline_scripts
    assert not re.search(r"<[^>]*\son[a-z]+\s*=", html), "inline event handlers are blocked by the CSP"
    assert not re.search(r"<[^>]*\sstyle\s*=", html), "inline style attributes are blocked by the CSP"


# --- documentation ------------------------------------------------------------------------------------


def test_every_variable_read_is_documented():
    names = variables_read()
    assert {"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "PORT"} <= names  # the scan itself works
    env_example = (ROOT / ".env.example").read_text()
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", env_example, flags=re.MULTILINE))
    assert names - documented == set(), "add these to .env.example, with their meaning"
    readme = (ROOT / "README.md").read_text()
    assert {name for name in names if f"`{name}`" not in readme} == set(), "add these to README.md's table"
