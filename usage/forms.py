from django import forms


class CookieChoiceForm(forms.Form):
    """The banner's two buttons post `analytics=yes` or `analytics=no`."""

    analytics = forms.ChoiceField(choices=[("yes", "yes"), ("no", "no")])
    next = forms.CharField(required=False, max_length=2000)
