"""The billing pages, mounted at /o/<org_slug>/billing/ (logicnet/urls.py); the webhook is
mounted at /billing/stripe/webhook/ (`webhook_urlpatterns`)."""

from django.urls import path

from billing import views

urlpatterns = [
    path("", views.billing_page, name="billing"),
    path("checkout/", views.billing_checkout, name="billing_checkout"),
    path("portal/", views.billing_portal, name="billing_portal"),
]

webhook_urlpatterns = [
    path("billing/stripe/webhook/", views.stripe_webhook, name="stripe_webhook"),
]
