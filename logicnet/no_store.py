"""`Cache-Control: no-store, private` on every page the application renders.

Signed-in pages show contacts' names, emails and notes; public privacy pages show a data
subject's own data. A browser's disk cache or a shared proxy keeping a copy would hold
that personal data outside the encrypted database, beyond any retention or erasure rule
(GDPR Art. 5(1)(e), 17, 32). Static files (served by WhiteNoise before this middleware,
or by `runserver` without any middleware) keep their long cache lifetimes.
"""

from __future__ import annotations

from django.conf import settings

NO_STORE = "no-store, private"


class NoStoreMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.static_prefix = settings.STATIC_URL if settings.STATIC_URL.startswith("/") else f"/{settings.STATIC_URL}"

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith(self.static_prefix):
            return response
        # Every dynamic response, anonymous ones included: a sign-in page is harmless to
        # refetch, and a page that turns out to show personal data (a public privacy page,
        # an error page echoing a form) cannot be forgotten. Replaces any weaker directive
        # (max-age, public) a view or decorator may have set.
        response["Cache-Control"] = NO_STORE
        return response
