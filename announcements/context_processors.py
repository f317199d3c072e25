from functools import partial


def announcement_banners(request):
    """The banners of live announcements for the signed-in user. A callable, so a page that
    does not render the layout asks nothing."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from django.utils.translation import get_language

    from announcements.services import banners_for

    memberships = getattr(request, "user_memberships", None)
    return {
        "announcement_banners": partial(banners_for, user, memberships, (get_language() or "en")[:2]),
    }
