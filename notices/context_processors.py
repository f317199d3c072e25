from functools import partial


def policy_notice(request):
    """The banner asking a signed-in user to accept a new privacy policy version. A callable,
    so a page that does not render the layout asks nothing; a cached number otherwise."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from notices.services.policy import needs_acceptance

    return {"policy_acceptance_needed": partial(needs_acceptance, user)}
