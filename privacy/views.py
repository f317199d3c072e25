"""Public privacy pages of an organization, for the people whose data it keeps."""

from django.template.response import TemplateResponse

from logicnet.tenancy.public import public_page


@public_page
def privacy_desk(request, org_slug: str):
    # The data-subject request forms (GDPR Art. 15-21) come with the privacy app's desk;
    # until then the page names the controller and says what is coming.
    return TemplateResponse(request, "privacy/public_desk.html", {"organization": request.public_organization})
