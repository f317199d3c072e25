"""Public per-organization pages, mounted at /p/<org_slug>/: no account, no membership.

The links in the mails to a person who made a request (privacy/mail.py) carry signed
tokens naming the request, never personal data."""

from django.urls import path

from privacy import views, views_fulfilment

urlpatterns = [
    path("privacy/", views.privacy_desk, name="public_privacy"),
    path("privacy/child/", views.child_report, name="public_privacy_child"),
    path("privacy/thanks/", views.thanks, name="public_privacy_thanks"),
    path("privacy/confirm/<str:token>/", views.confirm, name="privacy_confirm"),
    path("privacy/requests/<str:token>/", views.request_status, name="privacy_request_status"),
    path(
        "privacy/requests/<str:token>/download-link/",
        views_fulfilment.request_download_link,
        name="privacy_download_link",
    ),
    path("privacy/download/<str:token>/", views_fulfilment.download, name="privacy_download"),
    path("privacy/marketing/<str:token>/", views.marketing_objection, name="privacy_marketing_objection"),
]
