"""allauth's password-reset key, computed acting for the user the key is for.

Named by settings.ACCOUNT_PASSWORD_RESET_TOKEN_GENERATOR and imported by allauth's forms
module while it loads (import it only through that setting: importing this module first
would import allauth's forms, which would import it back half-loaded).
"""

from __future__ import annotations

from allauth.account.forms import EmailAwarePasswordResetTokenGenerator

from logicnet.tenancy.context import user_context


class PasswordResetTokenGenerator(EmailAwarePasswordResetTokenGenerator):
    """allauth hashes the user's email addresses into the key (a key stops working once
    they change). Those rows are visible to the web role only for their acting user, and
    the key is made (reset requested) and checked (link opened) before anyone acts: the
    hash is computed acting for the key's user, for that computation only; the rest of
    the request still acts for nobody until the new password is set."""

    def _make_hash_value(self, user, timestamp) -> str:
        with user_context(user):
            return super()._make_hash_value(user, timestamp)
