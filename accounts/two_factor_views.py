"""Two-factor pages: set up, backup codes (shown once), verify at sign-in, turn off.

The forms live here rather than in accounts/forms.py because they belong to these pages
alone and carry no model.
"""

from __future__ import annotations

import django_otp
import segno
from allauth.core import ratelimit
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache

from accounts import sign_in_throttle, two_factor
from accounts.middleware import url_with_next
from accounts.models import Organization
from logicnet.audit.services import client_ip

# The codes wait in the session between the confirming POST and the page that shows them,
# and are removed from it by that page: they are shown once.
BACKUP_CODES_SESSION_KEY = "two_factor_backup_codes"
FEW_BACKUP_CODES = 3


def _code_widget(*, backup: bool = False) -> forms.TextInput:
    attrs = {"autofocus": True, "autocomplete": "one-time-code", "spellcheck": "false", "autocapitalize": "none"}
    if backup:
        attrs.update(autocomplete="off", inputmode="text")
    else:
        attrs.update(inputmode="numeric", pattern="[0-9 ]*", maxlength="7")
    return forms.TextInput(attrs=attrs)


class TotpCodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("6-digit code from the app"),
        max_length=16,
        widget=_code_widget(),
    )

    def clean_code(self) -> str:
        code = two_factor.normalize_code(self.cleaned_data["code"])
        if not (code.isdigit() and len(code) == 6):
            raise ValidationError(gettext_lazy("Enter the 6 digits your app shows."))
        return code


class VerifyCodeForm(forms.Form):
    code = forms.CharField(max_length=32)

    def __init__(self, *args, backup: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["code"]
        field.widget = _code_widget(backup=backup)
        field.label = _("Backup code") if backup else _("6-digit code from your authenticator app")

    def clean_code(self) -> str:
        code = two_factor.normalize_code(self.cleaned_data["code"])
        if not code.isalnum() or not 6 <= len(code) <= 16:
            raise ValidationError(_("Enter the 6-digit code from your app, or one of your backup codes."))
        return code


class PasswordForm(forms.Form):
    password = forms.CharField(
        label=gettext_lazy("Your current password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autofocus": True, "autocomplete": "current-password"}),
    )


def _next_url(request) -> str:
    """The `next` parameter when it points into this site, else an empty string."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return ""


def _qr_code_svg(device) -> str:
    qr = segno.make(device.config_url, error="m")
    # Presentation attributes only (fill, stroke): the CSP forbids style attributes.
    svg = qr.svg_inline(
        scale=4, dark="#000", light="#fff", omitsize=True, svgclass="qr-code", title=_("QR code for your app")
    )
    return mark_safe(svg)  # noqa: S308 (segno's own markup; the only text in it, the title, is escaped)


def _status_for(exc: ValidationError) -> int:
    return 429 if getattr(exc, "code", None) == "throttled" else 200


@never_cache
@login_required
def two_factor_setup(request):
    user = request.user
    next_url = _next_url(request)
    if two_factor.has_two_factor(user):
        return render(request, "accounts/two_factor/enabled.html")
    device = two_factor.start_totp_enrolment(user=user, ip_address=client_ip(request))
    form = TotpCodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            enrolment = two_factor.confirm_totp_device(
                user=user, token=form.cleaned_data["code"], ip_address=client_ip(request)
            )
        except ValidationError as exc:
            form.add_error("code", exc)
            status = _status_for(exc)
        else:
            # The person has just proved they hold the device: this session counts as verified.
            django_otp.login(request, enrolment.device)
            request.session[BACKUP_CODES_SESSION_KEY] = {"codes": enrolment.backup_codes, "next": next_url}
            messages.success(request, _("Two-factor authentication is on."))
            return redirect("two_factor_backup_codes")
    context = {
        "form": form,
        "qr_code": _qr_code_svg(device),
        "secret": two_factor.totp_secret_base32(device),
        "next": next_url,
    }
    return render(request, "accounts/two_factor/setup.html", context, status=status)


@never_cache
@login_required
def two_factor_backup_codes(request):
    """GET shows codes issued a moment ago, once; POST replaces all codes with new ones."""
    user = request.user
    if not two_factor.has_two_factor(user):
        return redirect("two_factor_setup")
    if not user.is_verified():
        return redirect(url_with_next("two_factor_verify", request.path))
    if request.method == "POST":
        codes = two_factor.regenerate_backup_codes(user=user, ip_address=client_ip(request))
        request.session[BACKUP_CODES_SESSION_KEY] = {"codes": codes, "next": ""}
        messages.success(request, _("New backup codes made. The old ones no longer work."))
        return redirect("two_factor_backup_codes")
    pending = request.session.pop(BACKUP_CODES_SESSION_KEY, None) or {}
    codes = pending.get("codes")
    context = {
        "codes": codes,
        "codes_text": _backup_codes_text(user, codes) if codes else "",
        "next": pending.get("next") or reverse("home"),
    }
    return render(request, "accounts/two_factor/backup_codes.html", context)


def _backup_codes_text(user, codes: list[str]) -> str:
    """The codes as the downloaded .txt file and the clipboard hold them: what they are and
    whose, then one code a line. Built here and carried in the page (a data: link), never
    stored or served again: the codes are shown once."""
    lines = [
        _("Logicnet CRM backup codes for %(email)s") % {"email": user.email},
        _("Each code works once, in place of the code from your authenticator app."),
        "",
        *codes,
    ]
    return "\r\n".join(lines) + "\r\n"


@never_cache
@login_required
def two_factor_verify(request):
    user = request.user
    next_url = _next_url(request) or reverse("home")
    if user.is_verified() or not two_factor.has_two_factor(user):
        return redirect(next_url)
    backup = request.GET.get("backup") == "1"
    form = VerifyCodeForm(request.POST or None, backup=backup)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            verification = two_factor.verify_two_factor(
                user=user, token=form.cleaned_data["code"], ip_address=client_ip(request)
            )
        except ValidationError as exc:
            form.add_error("code", exc)
            status = _status_for(exc)
        else:
            django_otp.login(request, verification.device)
            if verification.used_backup_code:
                _warn_about_backup_codes(request, verification.backup_codes_left or 0)
            response = redirect(next_url)
            # The sign-in is complete: this client's sign-in cool-down ends, and the browser
            # becomes a known device of the account.
            sign_in_throttle.complete_sign_in(request, response, user=user)
            return response
    context = {"form": form, "backup": backup, "next": _next_url(request)}
    return render(request, "accounts/two_factor/verify.html", context, status=status)


def _warn_about_backup_codes(request, left: int) -> None:
    message = ngettext(
        "You signed in with a backup code. %(count)d backup code is left.",
        "You signed in with a backup code. %(count)d backup codes are left.",
        left,
    ) % {"count": left}
    if left < FEW_BACKUP_CODES:
        messages.warning(request, message + " " + _("Make new backup codes soon."))
    else:
        messages.info(request, message)


@never_cache
@login_required
def two_factor_disable(request):
    user = request.user
    if not two_factor.has_two_factor(user):
        return redirect("two_factor_setup")
    if not user.is_verified():
        return redirect(url_with_next("two_factor_verify", request.path))
    form = PasswordForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        # allauth's re-authentication limit, so this form cannot be used to guess the password.
        if not ratelimit.consume(request, action="reauthenticate", user=user):
            form.add_error(None, _("Too many attempts. Wait a minute, then try again."))
            status = 429
        else:
            try:
                two_factor.disable_two_factor(
                    user=user, password=form.cleaned_data["password"], ip_address=client_ip(request)
                )
            except ValidationError as exc:
                form.add_error("password", exc)
            else:
                request.session.pop(django_otp.DEVICE_ID_SESSION_KEY, None)
                messages.success(request, _("Two-factor authentication is off."))
                return redirect("home")
    requiring = Organization.objects.filter(memberships__user=user, require_two_factor=True, is_active=True)
    context = {"form": form, "organizations_requiring": requiring.order_by("name")}
    return render(request, "accounts/two_factor/disable.html", context, status=status)
