from django.urls import path

from breaches import views

urlpatterns = [
    path("", views.notice_list, name="breach_notices"),
]
