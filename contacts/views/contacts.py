"""A contact's own pages: create, detail, edit, delete, duplicates and merge."""

from __future__ import annotations

from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from contacts.access import get_contact_for, visible_contacts
from contacts.access_log import record_contact_view
from contacts.custom_fields import definitions_for, display_value, display_values, field_name, stored_value
from contacts.forms import (
    AddressFormSet,
    ContactForm,
    ExtraEmailFormSet,
    ExtraPhoneFormSet,
    MergeForm,
    formset_rows,
)
from contacts.models import Contact, CustomField
from contacts.selectors import index_digests
from contacts.selectors_contacts import with_details
from contacts.services.contacts import (
    DUPLICATE_EMAIL_MESSAGE,
    create_contact,
    delete_contact,
    find_duplicates,
    update_contact,
)
from contacts.services.merge import MERGE_FIELDS, merge_contacts
from logicnet.forms import add_service_errors
from logicnet.normalize import format_phone
from logicnet.tenancy.roles import Role, requires_role

SUBMISSION_SECONDS = 3600
FORMSETS = {
    # prefix: (formset class, fields for the service, service key, "add a row" button)
    "emails": (ExtraEmailFormSet, ("email", "label"), "extra_emails", "add_email"),
    "phones": (ExtraPhoneFormSet, ("phone", "label"), "extra_phones", "add_phone"),
    "addresses": (
        AddressFormSet,
        ("label", "street", "city", "postal_code", "region", "country"),
        "addresses",
        "add_address",
    ),
}


def _contact_with_details(request, contact_id: int) -> Contact:
    """The visible contact with everything its pages show, in a constant number of queries."""
    contacts = with_details(visible_contacts(request.actor))
    return get_object_or_404(contacts, pk=contact_id)


def _can_write(request) -> bool:
    return request.actor.at_least(Role.MEMBER)


# --- double-submit guard ---------------------------------------------------------------------


def _submission_key(request, token: str) -> str:
    return f"contact-form:{request.organization.pk}:{request.user.pk}:{token}"


def _already_submitted(request, token: str):
    """A resubmitted form (double click, browser retry) answers with the first result
    instead of saving again. Returns the earlier contact id, "pending", or None."""
    if not token:
        return None
    key = _submission_key(request, token)
    if cache.add(key, "pending", SUBMISSION_SECONDS):
        return None
    return cache.get(key)


def _finish_submission(request, token: str, contact_id: int | None) -> None:
    if not token:
        return
    key = _submission_key(request, token)
    if contact_id is None:
        cache.delete(key)  # failed validation: the same form may be sent again
    else:
        cache.set(key, contact_id, SUBMISSION_SECONDS)


# --- form handling ---------------------------------------------------------------------------


def _formsets(request, contact: Contact | None):
    """Bound formsets on POST (one more empty row for the "add" button pressed), initial
    ones from the contact on GET."""
    organization = request.organization
    result = {}
    if request.method == "POST":
        data = request.POST.copy()
        for prefix, (_cls, _fields, _key, add) in FORMSETS.items():
            if add in data:
                total = f"{prefix}-TOTAL_FORMS"
                data[total] = str(int(data.get(total) or 0) + 1)
        for prefix, (cls, _fields, _key, _add) in FORMSETS.items():
            kwargs = {"form_kwargs": {"organization": organization}} if prefix == "phones" else {}
            result[prefix] = cls(data, prefix=prefix, **kwargs)
        return result
    initial = {"emails": [], "phones": [], "addresses": []}
    if contact is not None:
        initial["emails"] = [{"email": e.email, "label": e.label} for e in contact.extra_emails.all()]
        initial["phones"] = [{"phone": format_phone(p.phone), "label": p.label} for p in contact.extra_phones.all()]
        initial["addresses"] = [
            {f: getattr(a, f) for f in ("label", "street", "city", "postal_code", "region", "country")}
            for a in contact.addresses.all()
        ]
    for prefix, (cls, _fields, _key, _add) in FORMSETS.items():
        kwargs = {"form_kwargs": {"organization": organization}} if prefix == "phones" else {}
        result[prefix] = cls(initial=initial[prefix], prefix=prefix, **kwargs)
    return result


def _duplicates_of(request, form, formsets, exclude: int | None):
    data = form.cleaned_data
    emails = [data.get("email") or ""] + [r["email"] for r in formset_rows(formsets["emails"], ("email",))]
    phones = [data.get("phone") or ""] + [r["phone"] for r in formset_rows(formsets["phones"], ("phone",))]
    return find_duplicates(request.organization, [e for e in emails if e], [p for p in phones if p], exclude=exclude)


def _primary_email_taken(request, form, duplicates) -> bool:
    """Whether a duplicate already has the typed email as its own primary one: the database
    keeps those unique per organization (contact_unique_email), so "save anyway" cannot
    save it and must not be offered. Compared by blind index, as the constraint does."""
    digests = set(index_digests(request.organization, "email", [form.cleaned_data.get("email") or ""]))
    return any(other.email_index in digests for other in duplicates)


def _contact_form_page(request, contact: Contact | None):
    """Create and edit share one flow: validate the form and formsets, warn about
    duplicates (saving needs "save anyway" then), call the service, redirect."""
    organization = request.organization
    # The owner of anything new starts as its creator (with "members see their own contacts"
    # an empty owner would hide the new contact from the member who created it).
    initial = {"owner": request.user.pk} if contact is None else None
    form = ContactForm(request.POST or None, organization=organization, contact=contact, initial=initial)
    formsets = _formsets(request, contact)
    duplicates = []
    email_taken = False
    adding_row = any(add in request.POST for *_rest, add in FORMSETS.values())
    if request.method == "POST" and not adding_row:
        token = request.POST.get("submit_token", "")
        earlier = _already_submitted(request, token)
        if isinstance(earlier, int):
            return redirect("contact_detail", org_slug=organization.slug, contact_id=earlier)
        saved = None
        if earlier == "pending":
            form.is_valid()
            form.add_error(None, _("This form is already being saved. Wait a moment, then reload the page."))
        elif form.is_valid() and all(fs.is_valid() for fs in formsets.values()):
            duplicates = _duplicates_of(request, form, formsets, exclude=contact.pk if contact else None)
            email_taken = _primary_email_taken(request, form, duplicates)
            if email_taken:
                form.add_error("email", DUPLICATE_EMAIL_MESSAGE)
            elif duplicates and not form.cleaned_data.get("confirm_duplicates"):
                form.add_error(None, _("Contacts with the same email address or phone already exist."))
            else:
                data = form.service_data()
                for prefix, (_cls, fields, key, _add) in FORMSETS.items():
                    data[key] = formset_rows(formsets[prefix], fields)
                try:
                    if contact is None:
                        saved = create_contact(organization=organization, actor=request.user, data=data)
                    else:
                        saved = update_contact(
                            organization=organization,
                            actor=request.user,
                            contact=contact,
                            data=data,
                            expected_version=form.cleaned_data.get("version"),
                        )
                except ValidationError as exc:
                    add_service_errors(form, exc)
        if earlier is None:
            _finish_submission(request, token, saved.pk if saved else None)
        if saved is not None:
            messages.success(request, _("Contact saved.") if contact else _("Contact created."))
            return redirect("contact_detail", org_slug=organization.slug, contact_id=saved.pk)
    visible_duplicates = []
    if duplicates:
        visible_ids = set(
            visible_contacts(request.actor).filter(pk__in=[d.pk for d in duplicates]).values_list("pk", flat=True)
        )
        visible_duplicates = [d for d in duplicates if d.pk in visible_ids]
    return render(
        request,
        "contacts/contact_form.html",
        {
            "form": form,
            "formsets": formsets,
            "contact": contact,
            "duplicates": visible_duplicates,
            "hidden_duplicates": len(duplicates) - len(visible_duplicates),
            "offer_save_anyway": bool(duplicates) and not email_taken,
        },
        status=400 if request.method == "POST" and not adding_row else 200,
    )


# --- views -----------------------------------------------------------------------------------


# Its form is of no use to a read-only member, who could not save it.
@requires_role(read=Role.MEMBER)
def contact_create(request, org_slug):
    return _contact_form_page(request, None)


# Its form is of no use to a read-only member, who could not save it.
@requires_role(read=Role.MEMBER)
def contact_edit(request, org_slug, contact_id):
    contact = _contact_with_details(request, contact_id)
    return _contact_form_page(request, contact)


def contact_detail(request, org_slug, contact_id):
    contact = _contact_with_details(request, contact_id)
    # GDPR accountability: who opened whose personal data (queued, see access_log.py).
    record_contact_view(organization_id=request.organization.pk, contact_id=contact.pk, user_id=request.user.pk)
    emails = [contact.email] + [e.email for e in contact.extra_emails.all()]
    phones = [contact.phone] + [p.phone for p in contact.extra_phones.all()]
    duplicates = find_duplicates(request.organization, [e for e in emails if e], [p for p in phones if p], contact.pk)
    definitions = definitions_for(request.organization, CustomField.Entity.CONTACT)
    return render(
        request,
        "contacts/contact_detail.html",
        {
            "contact": contact,
            "custom_values": display_values(definitions, contact),
            "duplicates": duplicates,
            "can_write": _can_write(request),
        },
    )


# Its form is of no use to a read-only member, who could not save it.
@requires_role(read=Role.MEMBER)
def contact_delete(request, org_slug, contact_id):
    contact = get_contact_for(request.actor, contact_id)
    if request.method == "POST":
        delete_contact(organization=request.organization, actor=request.user, contact=contact)
        messages.success(request, _("Contact deleted."))
        list_url = "contact_list" if _url_exists("contact_list") else "dashboard"
        return redirect(list_url, org_slug=org_slug)
    return render(request, "contacts/contact_confirm_delete.html", {"contact": contact})


def _url_exists(name: str) -> bool:
    from django.urls import NoReverseMatch, reverse

    try:
        reverse(name, kwargs={"org_slug": "x"})
    except NoReverseMatch:
        return False
    return True


@require_POST
def contact_duplicates(request, org_slug):
    """htmx: the contacts already having the email or phone being typed into the form.
    POSTed: the typed values in a query string would reach the access log."""
    exclude = request.GET.get("exclude")
    # The form's primary fields are "email"/"phone", its further rows "emails-0-email"...
    data = request.POST
    emails = [v for k in data for v in data.getlist(k) if k.split("-")[-1] == "email" and v.strip()]
    phones = [v for k in data for v in data.getlist(k) if k.split("-")[-1] == "phone" and v.strip()]
    emails, phones = emails[:20], phones[:20]
    found = find_duplicates(
        request.organization, emails, phones, exclude=int(exclude) if exclude and exclude.isdigit() else None
    )
    visible_ids = set(visible_contacts(request.actor).filter(pk__in=[c.pk for c in found]).values_list("pk", flat=True))
    return render(
        request,
        "contacts/_duplicates.html",
        {
            "duplicates": [c for c in found if c.pk in visible_ids],
            "hidden_duplicates": len([c for c in found if c.pk not in visible_ids]),
        },
    )


# Its form is of no use to a read-only member, who could not save it.
@requires_role(read=Role.MEMBER)
def contact_merge(request, org_slug, contact_id, other_contact_id):
    """The pair side by side: column "a" is the contact the page was opened from, "b" the
    other. The survivor starts as the fuller record (the older on a tie), not whichever
    page the merge was started from: that is often the new, nearly empty duplicate."""
    contacts = {"a": _contact_with_details(request, contact_id), "b": _contact_with_details(request, other_contact_id)}
    if contacts["a"].pk == contacts["b"].pk:
        raise Http404
    definitions = definitions_for(request.organization, CustomField.Entity.CONTACT)
    values = {side: _merge_values(contact, definitions) for side, contact in contacts.items()}
    keep = _fuller_side(contacts, values)
    other = "b" if keep == "a" else "a"
    initial = {
        "keep": keep,
        "a_version": contacts["a"].version,
        "b_version": contacts["b"].version,
        # Each field starts at the survivor's value, or the other's where the survivor has none.
        **{name: other if not values[keep][name] and values[other][name] else keep for name in values[keep]},
    }
    form = MergeForm(request.POST or None, initial=initial, custom_fields=definitions)
    if request.method == "POST" and form.is_valid():
        survivor_side, duplicate_side = form.sides()
        versions = {"a": form.cleaned_data["a_version"], "b": form.cleaned_data["b_version"]}
        try:
            merged = merge_contacts(
                organization=request.organization,
                actor=request.user,
                survivor=contacts[survivor_side],
                duplicate=contacts[duplicate_side],
                choices=form.choices(),
                expected_versions=(versions[survivor_side], versions[duplicate_side]),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Contacts merged."))
            return redirect("contact_detail", org_slug=org_slug, contact_id=merged.pk)
    rows = [
        {
            "field": form[name],
            "a": values["a"][name],
            "b": values["b"][name],
            "checked": form[name].value() or form["keep"].value(),
        }
        for name in form.field_names
    ]
    return render(
        request,
        "contacts/contact_merge.html",
        {
            "form": form,
            "rows": rows,
            "a": contacts["a"],
            "b": contacts["b"],
            "sides": list(contacts.items()),
            "keep": form["keep"].value(),
            "can_write": _can_write(request),
        },
        status=400 if request.method == "POST" else 200,
    )


def _merge_values(contact: Contact, definitions) -> dict[str, str]:
    """Every field group's and custom field's value as the merge page shows it ("" when
    empty), keyed by the merge form's field names."""
    shown = {name: _merge_value(contact, name) for name in MERGE_FIELDS}
    for definition in definitions:
        shown[field_name(definition)] = display_value(definition, stored_value(definition, contact)) or ""
    return shown


def _fuller_side(contacts: dict[str, Contact], values: dict[str, dict[str, str]]) -> str:
    """The column whose contact holds more: filled fields, further emails, phones and
    addresses, tags; the older contact when both hold as much."""

    def held(side: str) -> tuple[int, float]:
        contact = contacts[side]
        count = sum(1 for value in values[side].values() if value)
        count += len(contact.extra_emails.all()) + len(contact.extra_phones.all())
        count += len(contact.addresses.all()) + len(contact.tags.all())
        return count, -contact.created_at.timestamp()

    return "a" if held("a") >= held("b") else "b"


def _merge_value(contact: Contact, name: str) -> str:
    if name == "email":
        return f"{contact.email} ({contact.get_email_label_display()})" if contact.email else ""
    if name == "phone":
        return f"{contact.phone} ({contact.get_phone_label_display()})" if contact.phone else ""
    if name == "company":
        return contact.company.name if contact.company_id else ""
    if name == "owner":
        return (contact.owner.full_name or contact.owner.email) if contact.owner_id else ""
    if name == "status":
        return contact.get_status_display()
    if name == "source":
        parts = [contact.get_source_display(), contact.source_detail, contact.source_date.isoformat()]
        return " · ".join(p for p in parts if p)
    value = getattr(contact, name)
    return "" if value is None else str(value)


urlpatterns = [
    path("contacts/new/", contact_create, name="contact_create"),
    path("contacts/duplicates/", contact_duplicates, name="contact_duplicates"),
    path("contacts/<int:contact_id>/", contact_detail, name="contact_detail"),
    path("contacts/<int:contact_id>/edit/", contact_edit, name="contact_edit"),
    path("contacts/<int:contact_id>/delete/", contact_delete, name="contact_delete"),
    path("contacts/<int:contact_id>/merge/<int:other_contact_id>/", contact_merge, name="contact_merge"),
]
