from django.contrib import admin
from django.urls import include, path

from accounts.urls import organization_urlpatterns
from contacts.urls import urlpatterns as crm_urlpatterns
from logicnet.health import healthz
from notices.urls import public_urlpatterns as notices_public_urlpatterns

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("o/<slug:org_slug>/", include(organization_urlpatterns + crm_urlpatterns)),
    # The privacy desk: data-subject requests, worked by admins and privacy officers.
    path("o/<slug:org_slug>/privacy/", include("privacy.urls")),
    # Records of processing (GDPR Art. 30(2)) and sub-processor notices of the organization.
    path("o/<slug:org_slug>/privacy/", include("notices.urls")),
    # Public pages of an organization, for people without an account (logicnet/tenancy/public.py).
    path("p/<slug:org_slug>/", include("privacy.public_urls")),
    *notices_public_urlpatterns,
    path("", include("accounts.urls")),
]
