"""The consent pages of an organization's staff, mounted at /o/<org_slug>/consent/."""

from django.urls import path

from consent import views

urlpatterns = [
    path("", views.purpose_list, name="consent_purposes"),
    path("purposes/<int:purpose_id>/", views.purpose_detail, name="consent_purpose"),
    path("purposes/<int:purpose_id>/offered/", views.purpose_offered, name="consent_purpose_offered"),
    path("contacts/<int:contact_id>/", views.contact_consent, name="consent_contact"),
    path("export.csv", views.export, name="consent_export"),
]
