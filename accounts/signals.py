"""Security events from django.contrib.auth and allauth, written to the audit log."""

from allauth.account.signals import email_changed, password_changed, password_reset
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from logicnet.audit.services import client_ip, record_event


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    record_event(action="auth.signed_in", actor=user, ip_address=client_ip(request))


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        record_event(action="auth.signed_out", actor=user, ip_address=client_ip(request))


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    # No address in the log: it may be a typo of someone else's; the IP is enough to act on.
    record_event(action="auth.sign_in_failed", ip_address=client_ip(request))


@receiver(password_changed)
def _password_changed(sender, request, user, **kwargs):
    record_event(action="auth.password_changed", actor=user, ip_address=client_ip(request))


@receiver(password_reset)
def _password_reset(sender, request, user, **kwargs):
    record_event(action="auth.password_reset", actor=user, ip_address=client_ip(request))


@receiver(email_changed)
def _email_changed(sender, request, user, **kwargs):
    record_event(action="auth.email_changed", actor=user, ip_address=client_ip(request))
