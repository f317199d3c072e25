"""Forms of the privacy desk. They validate and normalise; the services in
privacy/services/ do the work. Every choice of a member or a request is restricted to the
organization's own in `__init__`."""

from __future__ import annotations

import datetime
from zoneinfo import available_timezones

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from contacts.forms import validate_phone
from privacy import deadlines
from privacy.models import PrivacyRequest, PrivacySettings, Right
from privacy.selectors import desk_members, earlier_requests

Status = PrivacyRequest.Status


class QueueFilterForm(forms.Form):
    """GET parameters of the queue: no personal value among them."""

    STATE_CHOICES = (("open", _("Open")), ("closed", _("Closed")), ("all", _("All")))

    state = forms.ChoiceField(label=_("Status"), choices=STATE_CHOICES, required=False)
    right = forms.ChoiceField(label=_("Right"), choices=[("", _("Any right")), *Right.choices], required=False)
    mine = forms.BooleanField(label=_("Assigned to me"), required=False)
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)

    def filters(self) -> dict:
        """The valid filters (an invalid value is left out, as if absent)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "state": data.get("state") or "open",
            "right": data.get("right") or "",
            "mine": bool(data.get("mine")),
            "overdue": bool(data.get("overdue")),
        }


class StaffRequestForm(forms.Form):
    """A request received by letter, mail or phone, recorded by staff (channel STAFF)."""

    rights = forms.MultipleChoiceField(
        label=_("Rights asked for"), choices=Right.choices, widget=forms.CheckboxSelectMultiple
    )
    email = forms.EmailField(
        label=_("The person's email address"),
        max_length=254,
        help_text=_("Where the answer and the notices about the request are sent."),
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    phone = forms.CharField(
        label=_("Phone (optional)"),
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "off"}),
    )
    message = forms.CharField(
        label=_("What the person asked"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    correction = forms.CharField(
        label=_("For rectification: what should be corrected, and to what"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    objects_to_marketing = forms.BooleanField(
        label=_("The objection is to direct marketing (applied at once, Art. 21(3))"), required=False
    )
    language = forms.ChoiceField(label=_("Language of the person"), choices=settings.LANGUAGES)
    received_on = forms.DateField(
        label=_("Received on"),
        help_text=_("The day the letter, mail or call came in: the month to answer counts from it."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    submit_token = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, organization, time_zone: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.time_zone = time_zone
        self.fields["received_on"].initial = deadlines.today(time_zone)
        self.fields["language"].initial = settings.LANGUAGE_CODE

    def clean_phone(self) -> str:
        return validate_phone(self.cleaned_data["phone"], self.organization.country)

    def clean_received_on(self) -> datetime.date:
        day = self.cleaned_data["received_on"]
        if day > deadlines.today(self.time_zone):
            raise forms.ValidationError(_("The day it was received cannot be in the future."))
        return day

    def clean(self):
        cleaned = super().clean()
        if Right.RECTIFICATION in (cleaned.get("rights") or []) and not (cleaned.get("correction") or "").strip():
            self.add_error("correction", _("Say what should be corrected, and to what."))
        return cleaned

    def received_at(self) -> datetime.datetime:
        """Now, for a request received today; otherwise noon of that day in the organization's
        time zone (the deadline counts from the day, not the hour)."""
        day = self.cleaned_data["received_on"]
        if day == deadlines.today(self.time_zone):
            return timezone.now()
        from zoneinfo import ZoneInfo

        return datetime.datetime.combine(day, datetime.time(12), tzinfo=ZoneInfo(self.time_zone))


class _ActionForm(forms.Form):
    """Every action form carries a one-use token so a double submission acts once. The
    request page holds several of them: each names its element ids after itself."""

    submit_token = forms.CharField(widget=forms.HiddenInput, required=False)
    id_prefix = "action"

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("auto_id", f"{self.id_prefix}-%s")
        super().__init__(*args, **kwargs)


class IdentityForm(_ActionForm):
    id_prefix = "identity"
    contact = forms.IntegerField(widget=forms.HiddenInput)


class AssignForm(_ActionForm):
    id_prefix = "assign"
    assignee = forms.ModelChoiceField(label=_("Assigned to"), queryset=None, required=False, empty_label=_("Nobody"))

    def __init__(self, *args, organization, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        from accounts.models import User

        self.fields["assignee"].queryset = User.objects.filter(
            pk__in=desk_members(organization).values("user_id")
        ).order_by("full_name", "email")
        self.fields["assignee"].label_from_instance = lambda user: user.full_name or user.email


class NoteForm(_ActionForm):
    id_prefix = "note"
    note = forms.CharField(label=_("Internal note"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)


class AskForm(_ActionForm):
    id_prefix = "ask"
    message = forms.CharField(
        label=_("What you need from the person"),
        help_text=_("Sent to the person by email and kept in the timeline. The deadline keeps running."),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
    )


class ExtendForm(_ActionForm):
    id_prefix = "extend"
    reason = forms.CharField(
        label=_("Reason for the extension"),
        help_text=_("The person is told it by email (Art. 12(3)): the complexity or the number of requests."),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
    )


class DenyForm(_ActionForm):
    id_prefix = "deny"
    reason = forms.CharField(
        label=_("Reason for refusing"),
        help_text=_(
            "Sent to the person, with their right to complain to the supervisory authority and to go to court."
        ),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
    )
    unfounded = forms.BooleanField(label=_("The request is manifestly unfounded or excessive"), required=False)
    unfounded_justification = forms.CharField(
        label=_("Why it is manifestly unfounded or excessive"),
        help_text=_(
            "The organization must be able to show it (Art. 12(5)): repeated requests, their number, and so on."
        ),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
        required=False,
    )

    def clean(self):
        cleaned = super().clean()
        justification = (cleaned.get("unfounded_justification") or "").strip()
        if cleaned.get("unfounded") and not justification:
            self.add_error("unfounded_justification", _("Write why the request is manifestly unfounded or excessive."))
        if not cleaned.get("unfounded"):
            cleaned["unfounded_justification"] = ""
        return cleaned


class GroupForm(_ActionForm):
    id_prefix = "group"
    earlier = forms.ModelChoiceField(label=_("Earlier request"), queryset=None)

    def __init__(self, *args, request: PrivacyRequest, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["earlier"].queryset = earlier_requests(request)
        self.fields["earlier"].label_from_instance = lambda r: f"{r.reference} · {r.received_at:%Y-%m-%d}"
        # submit_request linked a repeat from the same address: offered first.
        self.fields["earlier"].initial = request.duplicate_of_id


class MoveForm(_ActionForm):
    id_prefix = "move"
    status = forms.ChoiceField(
        label=_("New status"),
        choices=[(s, Status(s).label) for s in (Status.IN_PROGRESS, Status.AWAITING_APPROVAL, Status.COMPLETED)],
    )


class PrivacySettingsForm(forms.Form):
    controller_name = forms.CharField(label=_("Controller's legal name"), max_length=200, required=False)
    controller_address = forms.CharField(
        label=_("Controller's address"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    contact_email = forms.EmailField(label=_("Privacy contact email"), required=False)
    dpo_contact = forms.CharField(
        label=_("Data protection officer (name or contact), if any"), max_length=200, required=False
    )
    time_zone = forms.ChoiceField(
        label=_("Time zone for deadlines"),
        choices=(),
        help_text=_(
            "Deadlines are counted in calendar days of this time zone. Requests already received keep their due day."
        ),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = [(name, name) for name in sorted(available_timezones())]

    @classmethod
    def initial_from(cls, found: PrivacySettings) -> dict:
        return {name: getattr(found, name) for name in cls.base_fields}
