"""Public consent pages of an organization, mounted at /p/<org_slug>/ (logicnet/tenancy/public.py)."""

from django.urls import path

from consent import views_public

urlpatterns = [
    path("consent/confirm/<str:token>/", views_public.signup_confirm, name="consent_signup_confirm"),
    path("consent/unsubscribe/<str:token>/", views_public.unsubscribe, name="consent_unsubscribe"),
    path("consent/<slug:purpose_key>/", views_public.signup, name="consent_signup"),
    path("consent/<slug:purpose_key>/sent/", views_public.signup_sent, name="consent_signup_sent"),
    path("preferences/<str:token>/", views_public.preferences, name="consent_preferences"),
]
