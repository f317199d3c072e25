"""Read the visitor's cookie choice once per request; count the feature a page is, only
with analytics consent."""

from __future__ import annotations

import logging

from django.db import DatabaseError

from usage.consent import current_choice
from usage.features import feature_for_page

log = logging.getLogger(__name__)
# The answer already recorded against this session's user.
SESSION_KEY = "usage_cookie_choice"


class CookieChoiceMiddleware:
    """Sits above the organization middleware: the organization and the member are known
    once the view has run, and the usage event is written after the page, in a transaction
    of its own (a failed write costs the event, never the page)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.cookie_choice = current_choice(request)
        if request.cookie_choice is not None and request.user.is_authenticated:
            self._record_for_user(request)
        response = self.get_response(request)
        if request.cookie_choice is not None and request.cookie_choice.analytics:
            self._count(request, response)
        return response

    @staticmethod
    def _record_for_user(request) -> None:
        """Once per session and answer (the session remembers it): the answer the browser
        gave, recorded against the signed-in user (usage.services.record_choice_for_user)."""
        encoded = request.cookie_choice.encode()
        if request.session.get(SESSION_KEY) == encoded:
            return
        from logicnet.client_ip import client_ip
        from usage.services import record_choice_for_user

        try:
            record_choice_for_user(
                user=request.user,
                choice=request.cookie_choice,
                ip_address=client_ip(request),
                user_agent=request.headers.get("user-agent", ""),
            )
        except DatabaseError:
            log.exception("cookie choice not recorded against the user; the next page tries again")
            return
        request.session[SESSION_KEY] = encoded

    @staticmethod
    def _count(request, response) -> None:
        organization = getattr(request, "organization", None)
        match = getattr(request, "resolver_match", None)
        if (
            organization is None
            or match is None
            or request.method != "GET"
            or response.status_code != 200
            or getattr(request, "htmx", False)  # a partial of a page already counted
            or not request.user.is_authenticated
        ):
            return
        feature = feature_for_page(match.url_name)
        if feature is None:
            return
        from usage.services import record_usage

        try:
            record_usage(organization=organization, user=request.user, feature=feature)
        except DatabaseError:
            log.exception("usage event %s not recorded", feature)
