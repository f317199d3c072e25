"""Typed readers for environment variables.

Every reader raises ImproperlyConfigured naming the variable when a value is malformed, so
a typo in deployment fails at start-up instead of at the first request that needs it.
A secret may also come from a file: `NAME_FILE=/run/secrets/name` (Docker and Kubernetes
mount secrets that way).
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _raw(name: str) -> str | None:
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE: cannot read {file_name}: {exc}") from exc
    return os.environ.get(name)


def env_str(name: str, default: str = "") -> str:
    value = _raw(name)
    return default if value is None else value


def env_bool(name: str, default: bool = False) -> bool:
    value = _raw(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {value!r}")


def env_int(name: str, default: int) -> int:
    value = _raw(name)
    if value is None or value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from None


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    """Comma-separated list; blank items are dropped."""
    value = _raw(name)
    if value is None:
        return list(default or [])
    return [item.strip() for item in value.split(",") if item.strip()]


def env_url(name: str, default: str = "", schemes: tuple[str, ...] = ()) -> str:
    value = env_str(name, default)
    if value and schemes and not value.startswith(tuple(f"{s}://" for s in schemes)):
        allowed = ", ".join(schemes)
        raise ImproperlyConfigured(f"{name} must be a URL with scheme {allowed}, got {value!r}")
    return value
