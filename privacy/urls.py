"""The privacy desk's URLs, mounted at /o/<org_slug>/privacy/ (logicnet/urls.py): the
request lifecycle (views_desk) and the answers to each right (views_fulfilment)."""

from django.urls import path

from privacy import views_fulfilment as answers
from privacy.views_desk import urlpatterns as desk_urlpatterns

REQUEST = "requests/<int:request_id>/"

urlpatterns = [
    *desk_urlpatterns,
    path(f"{REQUEST}package/", answers.package_start, name="privacy_package_start"),
    path(f"{REQUEST}jobs/<int:privacy_job_id>/", answers.request_job, name="privacy_request_job"),
    path(f"{REQUEST}erasure/", answers.erasure_preview, name="privacy_erasure_preview"),
    path(f"{REQUEST}erasure/confirm/", answers.erasure_confirm, name="privacy_erasure_confirm"),
    path(f"{REQUEST}erasure/withhold/", answers.erasure_withhold, name="privacy_erasure_withhold"),
    path(f"{REQUEST}restriction/", answers.restriction, name="privacy_restriction"),
    path(f"{REQUEST}objection/", answers.objection, name="privacy_objection"),
    path(f"{REQUEST}rectification/", answers.rectification, name="privacy_rectification"),
]
