"""Gunicorn settings used by the compose file and the image (`--config python:logicnet.gunicorn_config`).

The access log records the path without its query string (%(U)s instead of %(r)s) and
leaves the referrer out (it is another page's full URL): a personal value in a URL would
otherwise be copied to a log kept outside the encrypted database (GDPR Art. 5(1)(c), 32)."""

accesslog = "-"
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)s "%(a)s"'
