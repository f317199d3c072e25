"""Mounted at /o/<org_slug>/privacy/ (logicnet/urls.py), next to the privacy desk."""

from django.urls import path

from notices import views

urlpatterns = [
    path("records/", views.processing_records, name="processing_records"),
    path("records.csv", views.processing_records_csv, name="processing_records_csv"),
    path("subprocessors/", views.organization_subprocessors, name="organization_subprocessors"),
]

public_urlpatterns = [
    path("privacy/subprocessors/", views.subprocessor_list, name="subprocessors"),
    path("privacy/accept/", views.policy_accept, name="privacy_policy_accept"),
]
