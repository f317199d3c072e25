from django.urls import path

from usage import views

urlpatterns = [
    # Logicnet's own cookies: the banner posts here; the footer links here.
    path("cookies/", views.cookie_settings, name="cookie_settings"),
]
