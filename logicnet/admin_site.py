from django_otp.admin import OTPAdminSite


class LogicnetAdminSite(OTPAdminSite):
    """The platform administrators' site: staff with a verified second factor only."""

    site_header = "Logicnet CRM — platform administration"
    site_title = "Logicnet CRM admin"
