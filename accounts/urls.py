from django.urls import path

from accounts import privacy_views, two_factor_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("organizations/new/", views.organization_create, name="organization_create"),
    path("account/sessions/", views.sessions, name="sessions"),
    path("account/two-factor/", two_factor_views.two_factor_setup, name="two_factor_setup"),
    path("account/two-factor/backup-codes/", two_factor_views.two_factor_backup_codes, name="two_factor_backup_codes"),
    path("account/two-factor/verify/", two_factor_views.two_factor_verify, name="two_factor_verify"),
    path("account/two-factor/disable/", two_factor_views.two_factor_disable, name="two_factor_disable"),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation_accept"),
    # The account holder's rights over their own data (Logicnet is the controller).
    path("account/privacy/", privacy_views.account_privacy, name="account_privacy"),
    path("account/privacy/details/", privacy_views.account_details, name="account_details"),
    path("account/privacy/package/", privacy_views.account_package_request, name="account_package_request"),
    path(
        "account/privacy/package/<str:package_token>/",
        privacy_views.account_package_download,
        name="account_package_download",
    ),
    path("account/privacy/marketing/", privacy_views.account_marketing, name="account_marketing"),
    path("account/privacy/restriction/", privacy_views.account_restriction, name="account_restriction"),
    path("account/privacy/delete/", privacy_views.account_delete, name="account_delete"),
    # Logicnet's own privacy policy: public.
    path("privacy/", privacy_views.privacy_policy, name="privacy_policy"),
]

organization_urlpatterns = [
    path("members/", views.members, name="members"),
    path("members/invite/", views.member_invite, name="member_invite"),
    path("members/export/", views.members_export, name="members_export"),
    path("members/<int:membership_id>/role/", views.member_role, name="member_role"),
    path("members/<int:membership_id>/privacy-officer/", views.member_privacy_officer, name="member_privacy_officer"),
    path("members/<int:membership_id>/remove/", views.member_remove, name="member_remove"),
    path("leave/", views.organization_leave, name="organization_leave"),
    path("invitations/<int:invitation_id>/revoke/", views.invitation_revoke, name="invitation_revoke"),
    path("settings/", views.organization_settings, name="organization_settings"),
    path("jobs/<int:job_id>/", views.job_detail, name="job_detail"),
    path("jobs/<int:job_id>/download/", views.job_download, name="job_download"),
]
