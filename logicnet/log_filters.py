"""Keep query strings out of request logs.

Personal values no longer travel in URLs (lookups are POSTed), but a bookmarked old link,
a crafted URL or a third-party view could still carry one; the access log is kept longer
and read by more people than the encrypted database, so it records paths only (the
gunicorn side of the same rule is logicnet/gunicorn_config.py)."""

from __future__ import annotations

import logging
import re

# "GET /o/acme/search/?q=ana HTTP/1.1" -> "GET /o/acme/search/ HTTP/1.1"
_QUERY = re.compile(r"\?[^\s\"]*")


def strip_query(text: str) -> str:
    return _QUERY.sub("", text)


class StripQueryStringFilter(logging.Filter):
    """For django.server (runserver's access lines) and django.request: rewrites the
    record's message arguments in place, so every handler sees the stripped line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(strip_query(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: strip_query(v) if isinstance(v, str) else v for k, v in record.args.items()}
        if isinstance(record.msg, str) and not record.args:
            record.msg = strip_query(record.msg)
        return True


class RefusalsOnOneLine(logging.Filter):
    """For django.request: a refused request (403, 404, 405, 429 …) is the client's doing, not
    a fault of the application: one line, without the traceback Django attaches to the
    PermissionDenied or Http404 that produced it. Server errors keep theirs."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if status is not None and status < 500:
            record.exc_info = None
            record.exc_text = None
        return True
