"""Relative times as people say them: "just now" for the first minute, never "0 minutes"."""

from __future__ import annotations

import datetime

from django import template
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def ago(value: datetime.datetime | None) -> str:
    """ "just now", "5 minutes ago", "2 days, 3 hours ago" (in the active language)."""
    if not value:
        return ""
    if timezone.now() - value < datetime.timedelta(minutes=1):
        return _("just now")
    return _("%(since)s ago") % {"since": timesince(value)}
