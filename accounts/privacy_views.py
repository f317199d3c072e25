"""The account holder's privacy page (/account/privacy/) and Logicnet's own privacy policy
(/privacy/, public). Thin: form -> service (accounts/services.py, accounts/account_rights.py)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.response import TemplateResponse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import account_rights, services
from accounts.forms import AccountDeletionForm, AccountDetailsForm
from logicnet.audit.services import client_ip


def _package_context(user) -> dict:
    package = account_rights.latest_package(user)
    available = package is not None and account_rights.package_available(package)
    return {
        "package": package,
        "package_available": available,
        "package_in_progress": account_rights.package_in_progress(package),
        "package_expires_at": account_rights.package_expires_at(package) if package else None,
        "package_url": account_rights.download_url(package) if available else "",
    }


@login_required
def account_privacy(request):
    user = request.user
    if request.htmx and request.GET.get("part") == "package":
        return render(request, "accounts/_account_package.html", _package_context(user))
    return _render(request)


def _render(request, *, details_form=None, deletion_form=None, status=200):
    user = request.user
    context = {
        "details_form": details_form
        or AccountDetailsForm(initial={"full_name": user.full_name, "phone": user.phone, "language": user.language}),
        "deletion_form": deletion_form or AccountDeletionForm(),
        "deletion": account_rights.deletion_check(user),
        **_package_context(user),
    }
    return render(request, "accounts/account_privacy.html", context, status=status)


@login_required
@require_POST
def account_details(request):
    form = AccountDetailsForm(request.POST)
    if not form.is_valid():
        return _render(request, details_form=form, status=400)
    changed = services.update_account_details(user=request.user, ip_address=client_ip(request), **form.cleaned_data)
    messages.success(request, _("Your details were saved.") if changed else _("Nothing changed."))
    if "language" in changed:
        # The pages follow the language just chosen (the language cookie, as the switcher sets it).
        response = redirect("account_privacy")
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, form.cleaned_data["language"], samesite="Lax")
        return response
    return redirect("account_privacy")


@login_required
@require_POST
def account_package_request(request):
    account_rights.request_data_package(user=request.user, ip_address=client_ip(request))
    messages.success(request, _("We are preparing your data. We will email you a download link when it is ready."))
    return redirect("account_privacy")


@login_required
def account_package_download(request, package_token):
    try:
        package, content = account_rights.open_package_download(
            user=request.user, token=package_token, ip_address=client_ip(request)
        )
    except ValidationError:
        # Another user's link looks like one that does not exist.
        raise Http404 from None
    response = HttpResponse(content, content_type="application/zip")
    day = timezone.localdate(package.finished_at).isoformat()
    response["Content-Disposition"] = f'attachment; filename="logicnet-my-data-{day}.zip"'
    return response


@login_required
@require_POST
def account_marketing(request):
    objected = request.POST.get("objected") == "1"
    services.set_marketing_objection(user=request.user, objected=objected, ip_address=client_ip(request))
    if objected:
        messages.success(request, _("Done: Logicnet will send you no marketing."))
    else:
        messages.success(request, _("Your objection to marketing is withdrawn."))
    return redirect("account_privacy")


@login_required
@require_POST
def account_restriction(request):
    restricted = request.POST.get("restricted") == "1"
    services.set_processing_restriction(user=request.user, restricted=restricted, ip_address=client_ip(request))
    if restricted:
        messages.success(request, _("Your request to restrict processing is recorded."))
    else:
        messages.success(request, _("The restriction of processing is lifted."))
    return redirect("account_privacy")


@login_required
@require_POST
def account_delete(request):
    form = AccountDeletionForm(request.POST)
    if not form.is_valid():
        return _render(request, deletion_form=form, status=400)
    try:
        account_rights.request_account_deletion(
            user=request.user, confirmation=form.cleaned_data["confirmation"], ip_address=client_ip(request)
        )
    except ValidationError as exc:
        if exc.code == "blocked":
            # The form is not shown while an organization blocks; the page lists the way out.
            messages.error(request, " ".join(exc.messages))
        else:
            form.add_error("confirmation", exc)
        return _render(request, deletion_form=form, status=400)
    logout(request)
    messages.success(request, _("Your account is being deleted. We sent a last confirmation to your email address."))
    return redirect("account_login")


def privacy_policy(request):
    """Logicnet's own privacy policy, for everyone (no sign-in), in the request's language,
    followed by the form for a request to Logicnet as controller (privacy.views)."""
    from privacy.views import platform_request_form

    def page(request, form, *, status=200):
        return _policy_page(request, form, status=status)

    return platform_request_form(request, page)


def _policy_page(request, form, *, status: int = 200):
    from logicnet.personal_data.access import article_15_information
    from notices.services.policy import current_version, policy_template

    language = "ro" if (translation.get_language() or "").startswith("ro") else "en"
    version = current_version()
    context = {
        "info": article_15_information(None, kind="user"),
        "version": version.number,
        "policy_version": version,
        "policy_text": version.text_ro if language == "ro" else version.text_en,
        "policy_changes": version.changes_ro if language == "ro" else version.changes_en,
        "privacy_email": settings.PRIVACY_CONTACT_EMAIL,
        "language": language,
        # The policy text is a versioned, hashed document: the form is added around it
        # (accounts/privacy_page.html extends the version's template), never written into it.
        "policy_page_template": policy_template(version, language),
        "organization": request.public_organization,
        "form": form,
    }
    return TemplateResponse(request, "accounts/privacy_page.html", context, status=status)
