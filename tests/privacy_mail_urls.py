"""The project's URLs, plus the two links a request mail carries (privacy/mail.py reverses
`privacy_confirm` and `privacy_request_status`) for as long as the public privacy pages that
serve them are not in the project: the desk's mail tests render real mails either way. Once
the public pages define those names, this adds nothing."""

from django.http import HttpResponse
from django.urls import NoReverseMatch, include, path, reverse

from logicnet.urls import urlpatterns as project_urlpatterns

LINK_NAMES = ("privacy_confirm", "privacy_request_status")


def _defined(name: str) -> bool:
    try:
        reverse(name, urlconf="logicnet.urls", kwargs={"org_slug": "x", "token": "t"})
    except NoReverseMatch:
        return False
    return True


def not_served_here(request, org_slug, token):
    return HttpResponse(status=404)


urlpatterns = [
    path("", include(project_urlpatterns)),
    *[
        path(f"p/<slug:org_slug>/privacy/{name}/<str:token>/", not_served_here, name=name)
        for name in LINK_NAMES
        if not _defined(name)
    ],
]
