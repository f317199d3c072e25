"""Start-up check: with DEBUG off, settings already refuse to start without master keys."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Warning, register


@register()
def master_keys_configured(app_configs, **kwargs):
    if getattr(settings, "ENCRYPTION_MASTER_KEYS", None):
        return []
    return [
        Warning(
            "ENCRYPTION_MASTER_KEYS is not set: personal data can be neither stored nor read",
            hint="`make run` generates a development key in .data/secrets/; production must set it (see .env.example).",
            id="encryption.W001",
        )
    ]
