def cookie_banner(request):
    """The cookie banner shows until the visitor answered the current notice; the footer's
    Cookie settings link opens it again (static/js/cookie_banner.js)."""
    choice = getattr(request, "cookie_choice", None)
    return {"cookie_choice": choice, "cookie_banner_open": choice is None}
