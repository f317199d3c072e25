"""The project's URLs plus one view that fails, for the server-error page test."""

from django.urls import path

from logicnet.urls import urlpatterns as project_urlpatterns


def fails(request):
    raise RuntimeError("a fault on purpose")


urlpatterns = [path("fails/", fails), *project_urlpatterns]
