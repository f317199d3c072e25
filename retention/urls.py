"""The retention page, mounted at /o/<org_slug>/privacy/retention/ (logicnet/urls.py)."""

from django.urls import path

from retention import views

urlpatterns = [
    path("", views.retention_settings, name="retention_settings"),
    path("holds/find/", views.hold_find, name="retention_hold_find"),
    path("holds/", views.hold_add, name="retention_hold_add"),
    path("holds/release/", views.hold_release, name="retention_hold_release"),
    path("preview/", views.dry_run, name="retention_preview"),
    path("history/", views.history, name="retention_history"),
    path("run/", views.run_now, name="retention_run"),
]
