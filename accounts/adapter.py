from allauth.account.adapter import DefaultAccountAdapter
from django.urls import reverse


class AccountAdapter(DefaultAccountAdapter):
    def get_login_redirect_url(self, request):
        return reverse("home")

    def populate_username(self, request, user):
        # Sign-in is by email; there is no username.
        return None
