"""allauth's strings, listed so that the product's own catalog (locale/) translates them.

The sign-in, sign-up, password and email pages are allauth's templates and forms. allauth's
Romanian catalog writes most of them without diacritics ("Conecteaza-te", "Tine-ma minte",
"Parola noua"), some with the cedilla letters, and in the familiar "tu" where the product
speaks "dumneavoastră". Django merges the catalogs of LOCALE_PATHS over those of the
installed apps, so a msgid the product's catalog translates replaces allauth's wording
everywhere it appears, without copying allauth's templates. `makemessages` extracts the
strings from this module (gettext_noop marks them without translating at import time);
tests/test_translations.py then keeps them translated like the product's own.

Each msgid is allauth's exactly (django-allauth 65.21.1, requirements.txt): a string that
differs by one character would not match. Left out: the model names of the admin,
usernames, phone numbers and passkeys (the product signs in by email and password, a
mailed code and its own two-factor pages).
"""

from django.utils.translation import gettext_noop, pgettext_lazy

ALLAUTH_STRINGS = [
    # account/adapter.py
    gettext_noop("This account is currently inactive."),
    # account/adapter.py
    gettext_noop("You cannot remove your primary email address."),
    # account/adapter.py
    gettext_noop("This email address is already associated with this account."),
    # account/adapter.py
    gettext_noop("The email address and/or password you specified are not correct."),
    # account/adapter.py
    gettext_noop("A user is already registered with this email address."),
    # account/adapter.py
    gettext_noop("Please type your current password."),
    # account/adapter.py, mfa/adapter.py
    gettext_noop("Incorrect code."),
    # account/adapter.py
    gettext_noop("Incorrect password."),
    # account/adapter.py
    gettext_noop("Invalid or expired key."),
    # account/adapter.py
    gettext_noop("Invalid login."),
    # account/adapter.py
    gettext_noop("The password reset token was invalid."),
    # account/adapter.py
    gettext_noop("You cannot add more than %d email addresses."),
    # account/adapter.py
    gettext_noop("Too many failed login attempts. Try again later."),
    # account/adapter.py
    gettext_noop("The email address is not assigned to any user account."),
    # account/adapter.py, account/messages/unverified_primary_email.txt
    gettext_noop("Your primary email address must be verified."),
    # account/adapter.py
    gettext_noop("Please select only one."),
    # account/adapter.py
    gettext_noop("The new value must be different from the current one."),
    # account/adapter.py
    gettext_noop("Be patient, you are sending too many requests."),
    # account/adapter.py
    gettext_noop("Use your password"),
    # account/adapter.py
    gettext_noop("Use authenticator app or code"),
    # account/fields.py, account/forms.py, idp/oidc/forms.py
    gettext_noop("Email"),
    # account/forms.py
    gettext_noop("You must type the same password each time."),
    # account/forms.py
    gettext_noop("Password"),
    # account/forms.py
    gettext_noop("Remember Me"),
    # account/forms.py
    pgettext_lazy("field label", "Login"),
    # account/forms.py
    gettext_noop("Forgot your password?"),
    # account/forms.py
    gettext_noop("Email (again)"),
    # account/forms.py
    gettext_noop("Email address confirmation"),
    # account/forms.py
    gettext_noop("Email (optional)"),
    # account/forms.py
    gettext_noop("You must type the same email each time."),
    # account/forms.py
    gettext_noop("Password (again)"),
    # account/forms.py
    gettext_noop("Current Password"),
    # account/forms.py
    gettext_noop("New Password"),
    # account/forms.py
    gettext_noop("New Password (again)"),
    # account/forms.py, idp/oidc/forms.py, mfa/base/forms.py
    gettext_noop("Code"),
    # socialaccount/providers/dummy/dummy/authenticate_form.html, account/base_confirm_code.html, account/password_reset_from_key.html
    gettext_noop("Cancel"),
    # account/account_inactive.html
    gettext_noop("Account Inactive"),
    # account/account_inactive.html
    gettext_noop("This account is inactive."),
    # account/base_confirm_code.html
    gettext_noop("We've sent a code to %(recipient)s. The code expires shortly, so please enter it soon."),
    # account/base_confirm_code.html, account/email_confirm.html, account/reauthenticate.html
    gettext_noop("Confirm"),
    # account/base_confirm_code.html
    gettext_noop("Request new code"),
    # account/base_reauthenticate.html
    gettext_noop("Confirm Access"),
    # account/base_reauthenticate.html
    gettext_noop("Please reauthenticate to safeguard your account."),
    # account/base_reauthenticate.html, mfa/authenticate.html
    gettext_noop("Alternative options"),
    # account/confirm_login_code.html, account/login.html, account/request_login_code.html
    gettext_noop("Sign In"),
    # account/confirm_login_code.html
    gettext_noop("Enter Sign-In Code"),
    # account/confirm_password_reset_code.html, account/email/password_reset_subject.txt, account/password_reset.html
    gettext_noop("Password Reset"),
    # account/email.html
    gettext_noop("Email Addresses"),
    # account/email.html
    gettext_noop("The following email addresses are associated with your account:"),
    # account/email.html
    gettext_noop("Verified"),
    # account/email.html
    gettext_noop("Unverified"),
    # account/email.html
    gettext_noop("Primary"),
    # account/email.html
    gettext_noop("Make Primary"),
    # account/email.html, account/email_change.html, account/phone_change.html
    gettext_noop("Re-send Verification"),
    # account/email.html, mfa/webauthn/authenticator_confirm_delete.html, mfa/webauthn/authenticator_list.html
    gettext_noop("Remove"),
    # account/email.html
    gettext_noop("Add Email Address"),
    # account/email.html
    gettext_noop("Add Email"),
    # account/email.html
    gettext_noop("Do you really want to remove the selected email address?"),
    # account/email_change.html, allauth/layouts/base.html
    gettext_noop("Change Email"),
    # account/email_confirm.html
    gettext_noop("Confirm Email Address"),
    # account/email_confirm.html
    gettext_noop(
        'Please confirm that <a href="mailto:%(email)s">%(email)s</a> is an email address for user %(user_display)s.'
    ),
    # account/email_confirm.html, account/messages/email_confirmation_failed.txt
    gettext_noop("Unable to confirm %(email)s because it is already confirmed by a different account."),
    # account/email_confirm.html
    gettext_noop(
        'This email confirmation link expired or is invalid. Please <a href="%(email_url)s">issue a new email confirmation request</a>.'
    ),
    # account/login.html
    gettext_noop("If you have not created an account yet, then please %(link)ssign up%(end_link)s first."),
    # account/login.html, account/request_login_code.html
    gettext_noop("Send me a sign-in code"),
    # account/logout.html, allauth/layouts/base.html, idp/oidc/logout.html
    gettext_noop("Sign Out"),
    # account/logout.html, idp/oidc/logout.html
    gettext_noop("Are you sure you want to sign out?"),
    # account/messages/cannot_delete_primary_email.txt
    gettext_noop("You cannot remove your primary email address (%(email)s)."),
    # account/messages/email_confirmation_sent.txt
    gettext_noop("Confirmation email sent to %(email)s."),
    # account/messages/email_confirmed.txt
    gettext_noop("You have confirmed %(email)s."),
    # account/messages/email_deleted.txt
    gettext_noop("Removed email address %(email)s."),
    # account/messages/logged_in.txt
    gettext_noop("Successfully signed in as %(name)s."),
    # account/messages/logged_out.txt
    gettext_noop("You have signed out."),
    # account/messages/login_code_sent.txt
    gettext_noop("A sign-in code has been sent to %(recipient)s."),
    # account/messages/password_changed.txt
    gettext_noop("Password successfully changed."),
    # account/messages/password_set.txt
    gettext_noop("Password successfully set."),
    # account/messages/primary_email_set.txt
    gettext_noop("Primary email address set."),
    # account/password_change.html, account/password_reset_from_key.html, account/password_reset_from_key_done.html
    gettext_noop("Change Password"),
    # account/password_change.html
    gettext_noop("Forgot Password?"),
    # account/password_reset.html
    gettext_noop(
        "Forgotten your password? Enter your email address below, and we'll send you an email allowing you to reset it."
    ),
    # account/password_reset.html
    gettext_noop("Reset My Password"),
    # account/password_reset.html
    gettext_noop("Please contact us if you have any trouble resetting your password."),
    # account/password_reset_done.html
    gettext_noop(
        "We have sent you an email. If you have not received it please check your spam folder. Otherwise contact us if you do not receive it in a few minutes."
    ),
    # account/password_reset_from_key.html
    gettext_noop("Bad Token"),
    # account/password_reset_from_key.html
    gettext_noop(
        'The password reset link was invalid, possibly because it has already been used.  Please request a <a href="%(passwd_reset_url)s">new password reset</a>.'
    ),
    # account/password_reset_from_key_done.html
    gettext_noop("Your password is now changed."),
    # account/password_set.html
    gettext_noop("Set Password"),
    # account/reauthenticate.html
    gettext_noop("Enter your password:"),
    # account/request_login_code.html
    gettext_noop("You will receive a special code for a password-free sign-in."),
    # account/request_login_code.html
    gettext_noop("Request Code"),
    # account/request_login_code.html
    gettext_noop("Other sign-in options"),
    # account/signup.html, account/signup_by_passkey.html, socialaccount/signup.html
    gettext_noop("Signup"),
    # account/signup.html, account/signup_by_passkey.html, allauth/layouts/base.html
    gettext_noop("Sign Up"),
    # account/signup.html, account/signup_by_passkey.html
    gettext_noop("Already have an account? Then please %(link)ssign in%(end_link)s."),
    # account/snippets/already_logged_in.html
    gettext_noop("Note"),
    # account/snippets/already_logged_in.html
    gettext_noop("You are already logged in as %(user_display)s."),
    # account/snippets/warn_no_email.html
    gettext_noop("Warning:"),
    # account/snippets/warn_no_email.html
    gettext_noop(
        "You currently do not have any email address set up. You should really add an email address so you can receive notifications, reset your password, etc."
    ),
    # account/verification_sent.html, account/verified_email_required.html
    gettext_noop("Verify Your Email Address"),
    # account/verification_sent.html
    gettext_noop(
        "We have sent an email to you for verification. Follow the link provided to finalize the signup process. If you do not see the verification email in your main inbox, check your spam folder. Please contact us if you do not receive the verification email within a few minutes."
    ),
    # account/verified_email_required.html
    gettext_noop(
        "This part of the site requires us to verify that\nyou are who you claim to be. For this purpose, we require that you\nverify ownership of your email address. "
    ),
    # account/verified_email_required.html
    gettext_noop(
        "We have sent an email to you for\nverification. Please click on the link inside that email. If you do not see the verification email in your main inbox, check your spam folder. Otherwise\ncontact us if you do not receive it within a few minutes."
    ),
    # account/verified_email_required.html
    gettext_noop('<strong>Note:</strong> you can still <a href="%(email_url)s">change your email address</a>.'),
    # allauth/layouts/base.html
    gettext_noop("Messages:"),
    # allauth/layouts/base.html
    gettext_noop("Menu:"),
    # allauth/layouts/base.html, socialaccount/connections.html
    gettext_noop("Account Connections"),
    # allauth/layouts/base.html, mfa/authenticate.html, mfa/index.html
    gettext_noop("Two-Factor Authentication"),
    # allauth/layouts/base.html, usersessions/usersession_list.html
    gettext_noop("Sessions"),
]
