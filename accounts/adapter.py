from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts import sign_in_throttle, two_factor
from logicnet.client_ip import client_ip
from logicnet.tenancy.context import act_as

# Where an invitee who signed up, signed in or verified their address is sent back to.
PENDING_INVITATION_SESSION_KEY = "pending_invitation"


class AccountAdapter(DefaultAccountAdapter):
    error_messages = {
        **DefaultAccountAdapter.error_messages,
        "too_many_login_attempts": _(
            "Too many failed sign-in attempts for this account from here. Wait a few minutes, "
            "or sign in with a code sent to your email."
        ),
    }

    def add_message(self, request, level, message_template=None, message_context=None, extra_tags="", message=None):
        # allauth says "Successfully signed in" once the password is right; with two-factor
        # authentication the person is not signed in until the code page accepts a code, so
        # that page must not greet them with it.
        if message_template == "account/messages/logged_in.txt":
            user = (message_context or {}).get("user")
            if user is not None and two_factor.has_two_factor(user):
                return
        super().add_message(request, level, message_template, message_context, extra_tags, message)

    def get_login_redirect_url(self, request):
        return pending_invitation_path(request) or reverse("home")

    def get_email_verification_redirect_url(self, email_address):
        # Verified in another browser than the one that signed up: no login to resume, but
        # the invitation that brought them here may still be in this session.
        return pending_invitation_path(self.request) or super().get_email_verification_redirect_url(email_address)

    def populate_username(self, request, user):
        # Sign-in is by email; there is no username.
        return None

    def get_client_ip(self, request) -> str:
        """The address allauth's rate limits and session records use: the one the trusted
        proxies vouch for (logicnet.client_ip), not whatever X-Forwarded-For says."""
        address = client_ip(request)
        if not address:
            raise PermissionDenied("Unable to determine the client's address")
        return address

    # --- Acting for the user a flow has proved (logicnet.tenancy.context.act_as) -------------
    # Email addresses, two-factor devices and session records are visible to the web role
    # only for the acting user. Before sign-in nobody acts; each flow switches to its user
    # once that user is proved, before allauth reads or writes the user's own rows.

    def pre_login(self, request, user, **kwargs):
        # Every sign-in (password, mailed code, confirmed address, sign-up) passes here
        # before its stages check the verified address and django-otp's devices.
        act_as(user)
        return super().pre_login(request, user, **kwargs)

    def save_user(self, request, user, form, commit=True):
        # Sign-up: the new person's primary address is written next (setup_user_email).
        user = super().save_user(request, user, form, commit=commit)
        if commit:
            act_as(user)
        return user

    def set_password(self, user, password) -> None:
        # A password reset by mailed key proves the user (changing it, they act already);
        # the reset then clears the cool-downs of the user's addresses.
        act_as(user)
        user.set_password(password)
        # Only the password: a full save would also write the columns only the platform may
        # change (is_staff, is_superuser), which the web role has no privilege on.
        user.save(update_fields=["password"])

    # --- Sign-in throttling (accounts/sign_in_throttle.py) -----------------------------------

    def pre_authenticate(self, request, **credentials) -> None:
        super().pre_authenticate(request, **credentials)  # login_failed: per client address
        login = credentials.get("email") or credentials.get("username") or ""
        self._sign_in_attempt = sign_in_throttle.start_attempt(request, login=login)
        if self._sign_in_attempt is None:
            raise self.validation_error("too_many_login_attempts")

    def authenticate(self, request, **credentials):
        self._sign_in_attempt = None
        user = super().authenticate(request, **credentials)
        if user is not None and self._sign_in_attempt is not None:
            self._sign_in_attempt.succeeded()
        return user

    def post_login(self, request, user, **kwargs):
        from accounts.two_factor import has_two_factor

        response = super().post_login(request, user, **kwargs)
        # With a second factor the sign-in is complete only once it is given
        # (accounts/two_factor_views.py completes it there).
        if not has_two_factor(user):
            sign_in_throttle.complete_sign_in(request, response, user=user)
        return response

    def _delete_login_attempts_cached_email(self, request, **credentials) -> None:
        # After a password reset (the mailbox proved): this client's cool-down ends too.
        super()._delete_login_attempts_cached_email(request, **credentials)
        login = credentials.get("email") or credentials.get("username") or ""
        sign_in_throttle.clear_cool_down(request, logins=[login])


def pending_invitation_path(request) -> str | None:
    token = request.session.get(PENDING_INVITATION_SESSION_KEY) if request is not None else None
    return reverse("invitation_accept", args=[token]) if token else None
