from django.urls import path

from support import views

# Under /o/<org_slug>/settings/support-access/.
urlpatterns = [
    path("", views.support_access, name="support_access"),
    path("<int:grant_id>/revoke/", views.support_access_revoke, name="support_access_revoke"),
]

# The account holder's own inbox.
account_urlpatterns = [
    path("support/", views.support_inbox, name="support_inbox"),
    path("support/<int:support_request_id>/", views.support_request, name="support_request"),
    path("support/screenshots/<int:support_message_id>/", views.support_screenshot, name="support_screenshot"),
]
