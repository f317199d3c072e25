from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from accounts.urls import organization_urlpatterns
from accounts.views import ConfirmEmailView
from billing.urls import webhook_urlpatterns as billing_webhook_urlpatterns
from contacts.urls import urlpatterns as crm_urlpatterns
from deals.views_dashboard import dashboard, dashboard_chart_csv
from logicnet.health import healthz
from notices.urls import public_urlpatterns as notices_public_urlpatterns
from support.urls import account_urlpatterns as support_account_urlpatterns

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    # Browsers ask for /favicon.ico whatever the page declares.
    path("favicon.ico", RedirectView.as_view(url=static("favicon.svg"), permanent=True), name="favicon"),
    path("admin/", admin.site.urls),
    # allauth's confirmation page, acting for the address's owner (accounts.views).
    re_path(r"^accounts/confirm-email/(?P<key>[-:\w]+)/$", ConfirmEmailView.as_view(), name="account_confirm_email"),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    # The organization's landing page is the sales dashboard.
    path("o/<slug:org_slug>/", dashboard, name="dashboard"),
    path("o/<slug:org_slug>/dashboard/<slug:chart_key>.csv", dashboard_chart_csv, name="dashboard_chart_csv"),
    path("o/<slug:org_slug>/", include(organization_urlpatterns + crm_urlpatterns)),
    # Interactions, tasks and the timelines of contacts, companies and deals.
    path("o/<slug:org_slug>/", include("activity.urls")),
    # Pipelines, the board, deals, transactions and their settings.
    path("o/<slug:org_slug>/deals/", include("deals.urls")),
    # Imports of contacts and companies from files.
    path("o/<slug:org_slug>/", include("imports.urls")),
    # Exports of the CRM's lists, as jobs (exports/).
    path("o/<slug:org_slug>/", include("exports.urls")),
    # Personal data breaches that touch the organization, as Logicnet notified them.
    path("o/<slug:org_slug>/privacy/breaches/", include("breaches.urls")),
    # The organization's retention periods, legal holds and sweeps.
    path("o/<slug:org_slug>/privacy/retention/", include("retention.urls")),
    # The privacy desk: data-subject requests, worked by admins and privacy officers.
    path("o/<slug:org_slug>/privacy/", include("privacy.urls")),
    # Records of processing (GDPR Art. 30(2)) and sub-processor notices of the organization.
    path("o/<slug:org_slug>/privacy/", include("notices.urls")),
    # The support access an organization grants Logicnet's staff, and what they opened.
    path("o/<slug:org_slug>/settings/support-access/", include("support.urls")),
    # Consent purposes, the ledger and its export, a contact's consent.
    path("o/<slug:org_slug>/consent/", include("consent.urls")),
    # The organization's plan, usage, Stripe Checkout and Billing Portal, invoices.
    path("o/<slug:org_slug>/billing/", include("billing.urls")),
    # Stripe's signed webhook (no login, no CSRF token: the signature authenticates it).
    *billing_webhook_urlpatterns,
    # Public pages of an organization, for people without an account (logicnet/tenancy/public.py).
    path("p/<slug:org_slug>/", include("privacy.public_urls")),
    path("p/<slug:org_slug>/", include("consent.public_urls")),
    *notices_public_urlpatterns,
    # Logicnet's own cookie banner and choices.
    path("", include("usage.urls")),
    path("", include("accounts.urls")),
    # The support inbox (/support/) and announcements (banners, product-news consent).
    *support_account_urlpatterns,
    path("", include("announcements.urls")),
]
