from functools import wraps

from django.conf import settings
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from django_otp.admin import OTPAdminAuthenticationForm, OTPAdminSite

from logicnet.audit.services import client_ip
from logicnet.tenancy.context import act_as, platform_bypass, platform_reads, withhold_tenant_keys

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class AdminLoginForm(OTPAdminAuthenticationForm):
    """django-otp's admin sign-in, acting for the administrator once the password has
    proved them: their devices are visible to the web role only for the acting user."""

    def clean_otp(self, user):
        if user is not None:
            act_as(user)
        return super().clean_otp(user)


class LogicnetAdminSite(OTPAdminSite):
    """The platform administrators' site: staff with a verified second factor only.

    Administrators work across organizations, so the admin needs the platform database
    alias, which only the admin process has (LOGICNET_PROCESS=admin): in the customer web
    process every admin URL is a 404, and no statement run there can reach a role that
    sees every organization. A page that changes something (any POST) runs inside the
    audited platform bypass, one event naming the administrator and the page; reading a
    page writes no event (one per GET would bury the changes).
    """

    site_header = _("Logicnet CRM — platform administration")
    site_title = _("Logicnet CRM admin")
    login_form = AdminLoginForm

    def admin_view(self, view, cacheable=False):
        guarded = super().admin_view(view, cacheable)

        @wraps(view)
        def inner(request, *args, **kwargs):
            if settings.PLATFORM_DATABASE is None:
                raise Http404
            if not self.has_permission(request):
                return guarded(request, *args, **kwargs)  # the login / OTP page, no bypass
            # No organization's data key is handed out to an admin page: the platform role
            # reads every row, but an encrypted column stays ciphertext (see
            # withhold_tenant_keys). Tenant personal data is read only by the support views,
            # inside the organization's own tenant context, under a grant it gave.
            with withhold_tenant_keys():
                if getattr(view, "tenant_support_view", False):
                    # The view checks the grant and enters the organization's tenant context
                    # on the application role itself: no platform route around it.
                    return _rendered(guarded(request, *args, **kwargs))
                if request.method in SAFE_METHODS:
                    with platform_reads():
                        return _rendered(guarded(request, *args, **kwargs))
                reason = f"admin {request.method} {request.path}"
                with platform_bypass(actor=request.user, reason=reason, ip_address=client_ip(request)):
                    return _rendered(guarded(request, *args, **kwargs))

        return inner

    def login(self, request, extra_context=None):
        if settings.PLATFORM_DATABASE is None:
            raise Http404
        return super().login(request, extra_context)


def _rendered(response):
    # Template responses render lazily; render inside the bypass so their queries see rows.
    if hasattr(response, "render") and callable(response.render) and not response.is_rendered:
        response = response.render()
    return response
