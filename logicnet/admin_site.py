from functools import wraps

from django.utils.translation import gettext_lazy as _
from django_otp.admin import OTPAdminSite

from logicnet.audit.services import client_ip
from logicnet.tenancy.context import platform_bypass


class LogicnetAdminSite(OTPAdminSite):
    """The platform administrators' site: staff with a verified second factor only.

    Administrators work across organizations, so every admin page runs inside the
    explicit, audited platform bypass (the audit row names the administrator and page).
    """

    site_header = _("Logicnet CRM — platform administration")
    site_title = _("Logicnet CRM admin")

    def admin_view(self, view, cacheable=False):
        guarded = super().admin_view(view, cacheable)

        @wraps(view)
        def inner(request, *args, **kwargs):
            if not self.has_permission(request):
                return guarded(request, *args, **kwargs)  # the login / OTP page, no bypass
            reason = f"admin {request.method} {request.path}"
            with platform_bypass(actor=request.user, reason=reason, ip_address=client_ip(request)):
                return _rendered(guarded(request, *args, **kwargs))

        return inner


def _rendered(response):
    # Template responses render lazily; render inside the bypass so their queries see rows.
    if hasattr(response, "render") and callable(response.render) and not response.is_rendered:
        response = response.render()
    return response
