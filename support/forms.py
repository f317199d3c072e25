from django import forms
from django.utils.translation import gettext_lazy as _

from support.services.requests import MAX_BODY, MAX_SUBJECT


class SupportRequestForm(forms.Form):
    organization = forms.ChoiceField(label=_("About the organization"), required=False)
    subject = forms.CharField(label=_("Subject"), max_length=MAX_SUBJECT)
    message = forms.CharField(label=_("Message"), max_length=MAX_BODY, widget=forms.Textarea(attrs={"rows": 6}))
    screenshot = forms.FileField(
        label=_("Screenshot (optional)"),
        required=False,
        help_text=_("A PNG, JPEG or WebP image of at most 5 MB. It is stored encrypted."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/webp"}),
    )

    def __init__(self, *args, memberships=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.organizations = {str(m.organization_id): m.organization for m in memberships}
        self.fields["organization"].choices = [("", _("None in particular"))] + [
            (key, org.name) for key, org in self.organizations.items()
        ]

    def clean_organization(self):
        return self.organizations.get(self.cleaned_data.get("organization") or "")


class SupportReplyForm(forms.Form):
    message = forms.CharField(label=_("Your reply"), max_length=MAX_BODY, widget=forms.Textarea(attrs={"rows": 4}))
    screenshot = SupportRequestForm.base_fields["screenshot"]


class SupportAnswerForm(forms.Form):
    message = forms.CharField(label=_("Answer"), max_length=MAX_BODY, widget=forms.Textarea(attrs={"rows": 6}))


class SupportAccessForm(forms.Form):
    duration = forms.ChoiceField(
        label=_("For how long"),
        # The keys of support.services.grants.DURATIONS.
        choices=[
            ("1h", _("1 hour")),
            ("1d", _("1 day")),
            ("3d", _("3 days")),
            ("7d", _("7 days")),
        ],
        initial="1d",
    )
