"""Public per-organization pages, mounted at /p/<org_slug>/: no account, no membership."""

from django.urls import path

from privacy.views import privacy_desk

urlpatterns = [
    path("privacy/", privacy_desk, name="public_privacy"),
]
