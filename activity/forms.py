"""Forms of interactions and tasks. They validate and normalise; the services save.

Contacts are never offered as a full list (there may be a million, and their names are
encrypted): the participant field validates whatever ids the search picker sent against
the contacts the user may see, and only the chosen ones are rendered.
"""

from __future__ import annotations

import datetime

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization, User
from activity.models import Interaction
from activity.selectors import members_of_organization
from activity.services import MAX_PARTICIPANTS
from contacts.models import Company, Contact
from deals.models import Deal

SUBJECT_MAX_LENGTH = 200
BODY_MAX_LENGTH = 20000


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%H:%M")


def combine_local(day: datetime.date | None, time: datetime.time | None) -> datetime.datetime | None:
    """A date and time typed in the organization's time zone (settings.TIME_ZONE)."""
    if day is None:
        return None
    return timezone.make_aware(datetime.datetime.combine(day, time or datetime.time(9, 0)))


def split_local(value: datetime.datetime | None) -> tuple[datetime.date | None, datetime.time | None]:
    if value is None:
        return None, None
    local = timezone.localtime(value)
    return local.date(), local.time().replace(second=0, microsecond=0)


class InteractionForm(forms.Form):
    kind = forms.ChoiceField(label=_("Type"), choices=Interaction.Kind.choices, initial=Interaction.Kind.NOTE)
    date = forms.DateField(label=_("Date"), widget=DateInput)
    time = forms.TimeField(label=_("Time"), widget=TimeInput)
    subject = forms.CharField(label=_("Subject"), max_length=SUBJECT_MAX_LENGTH, required=False)
    body = forms.CharField(
        label=_("Details"), max_length=BODY_MAX_LENGTH, required=False, widget=forms.Textarea(attrs={"rows": 6})
    )
    contacts = forms.ModelMultipleChoiceField(
        label=_("Contacts"),
        queryset=Contact.objects.none(),
        error_messages={"required": _("Choose at least one contact.")},
    )
    company = forms.ModelChoiceField(label=_("Company"), queryset=Company.objects.none(), required=False)

    def __init__(
        self,
        *args,
        organization: Organization,
        contacts: QuerySet[Contact],
        companies: QuerySet[Company],
        company_choices: list[Company],
        on_deal: bool = False,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.fields["contacts"].queryset = contacts
        # On a deal the deal's contacts take part whatever is chosen (activity.services).
        self.fields["contacts"].required = not on_deal
        # Validated against every company of the organization, but only the likely ones
        # (the participants' companies) are listed: the full list can be 100,000 long.
        self.fields["company"].queryset = companies
        self.fields["company"].choices = [("", _("No company"))] + [
            (company.pk, company.name) for company in company_choices
        ]
        if not self.is_bound and "date" not in self.initial:
            self.initial["date"], self.initial["time"] = split_local(timezone.now())

    @classmethod
    def initial_for(cls, interaction: Interaction, participants: list[Contact]) -> dict:
        day, time = split_local(interaction.occurred_at)
        return {
            "kind": interaction.kind,
            "date": day,
            "time": time,
            "subject": interaction.subject,
            "body": interaction.body,
            "contacts": [contact.pk for contact in participants],
            "company": interaction.company_id,
        }

    def clean_contacts(self):
        contacts = self.cleaned_data["contacts"]
        if len(contacts) > MAX_PARTICIPANTS:
            raise forms.ValidationError(
                _("An interaction can have at most %(count)d contacts."), params={"count": MAX_PARTICIPANTS}
            )
        return list(contacts)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("date") is not None and cleaned.get("time") is not None:
            cleaned["occurred_at"] = combine_local(cleaned["date"], cleaned["time"])
        return cleaned

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "kind": data["kind"],
            "occurred_at": data["occurred_at"],
            "subject": data["subject"],
            "body": data["body"],
            "contacts": data["contacts"],
            "company": data["company"],
        }


class TaskForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    due_date = forms.DateField(label=_("Due date"), required=False, widget=DateInput)
    due_time = forms.TimeField(
        label=_("Time"), required=False, widget=TimeInput, help_text=_("Without a time, the task is due at 09:00.")
    )
    assignee = forms.ModelChoiceField(label=_("Assigned to"), queryset=User.objects.none(), required=False)
    # Which contact, company or deal the task is about: fixed by the page it was started from
    # (?contact= / ?company= / ?deal=), so a hidden id checked against what the user may see.
    contact = forms.ModelChoiceField(queryset=Contact.objects.none(), required=False, widget=forms.HiddenInput)
    company = forms.ModelChoiceField(queryset=Company.objects.none(), required=False, widget=forms.HiddenInput)
    deal = forms.ModelChoiceField(queryset=Deal.objects.none(), required=False, widget=forms.HiddenInput)

    def __init__(
        self,
        *args,
        organization: Organization,
        contacts: QuerySet[Contact],
        companies: QuerySet[Company],
        deals: QuerySet[Deal],
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.fields["assignee"].queryset = members_of_organization(organization)
        self.fields["assignee"].label_from_instance = lambda user: user.full_name or user.email
        self.fields["assignee"].empty_label = _("Nobody")
        self.fields["contact"].queryset = contacts
        self.fields["company"].queryset = companies
        self.fields["deal"].queryset = deals

    @classmethod
    def initial_for(cls, task) -> dict:
        day, time = split_local(task.due_at)
        return {
            "title": task.title,
            "due_date": day,
            "due_time": time,
            "assignee": task.assignee_id,
            "contact": task.contact_id,
            "company": task.company_id,
            "deal": task.deal_id,
        }

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("due_time") is not None and cleaned.get("due_date") is None:
            self.add_error("due_date", _("Enter the date the task is due, or clear the time."))
        cleaned["due_at"] = combine_local(cleaned.get("due_date"), cleaned.get("due_time"))
        return cleaned

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "title": data["title"],
            "due_at": data["due_at"],
            "assignee": data["assignee"],
            "contact": data["contact"],
            "company": data["company"],
            "deal": data["deal"],
        }
