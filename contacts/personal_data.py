"""Personal-data classification of contacts. The organization is the controller of this
data (Logicnet the processor): erasing a contact deletes its row and what hangs on it,
takes it out of shared interactions, and blanks nothing the others still need."""

from django.utils.translation import gettext_lazy as _

from logicnet.personal_data.registry import (
    THE_CONTACT,
    Category,
    Disclose,
    Erasure,
    Plain,
    Subject,
    anonymise,
    classify,
    declare_value_labels,
    define_subject_kind,
    delete_row,
    not_personal,
    personal,
    user_via,
)

PURPOSE = "customer_relationships"

# A company's name can name a person (a sole trader): the company row is then about them.
define_subject_kind("company", _("company that is a sole trader"), "contacts.Company", tenant=True)


def _custom_labels(entity: str):
    """Custom field values are stored under the field's key; people know them by its label."""

    def labels(organization_id: int) -> dict[str, str]:
        from contacts.models import CustomField

        rows = CustomField.objects.filter(organization_id=organization_id, entity=entity)
        return dict(rows.values_list("key", "label"))

    return labels


declare_value_labels("contacts.Contact", ("custom", "custom_personal"), _custom_labels("contact"))
declare_value_labels("contacts.Company", ("custom", "custom_personal"), _custom_labels("company"))


def _contact(category, *, provided=True, subject=THE_CONTACT, plaintext=""):
    """A value about the contact; erased the way its model says (the row goes)."""
    return personal(
        category,
        subject=subject,
        retention="contact",
        purpose=PURPOSE,
        provided=provided,
        plaintext=plaintext,
    )


def _staff(lookup: str, purpose: str = "team_activity", erasure: str = Erasure.BLANK) -> object:
    """A team member named on a CRM row (the user is the subject; Logicnet the controller).
    In a contact's access package the team member shows by name only."""
    return personal(
        Category.USAGE,
        subject=user_via(lookup),
        erasure=erasure,
        retention="account",
        purpose=purpose,
        disclose=Disclose.NAME,
    )


TRACKING = {
    "created_by": _staff("created_by"),
    "updated_by": _staff("updated_by"),
    "created_at": not_personal(),
    "updated_at": not_personal(),
    "version": not_personal(),
}
VIA_CONTACT = Subject("contact", "contact")


classify(
    "contacts.Contact",
    {
        "id": _contact(Category.IDENTITY, provided=False),
        "organization": not_personal(),
        "first_name": _contact(Category.IDENTITY),
        "last_name": _contact(Category.IDENTITY),
        "email": _contact(Category.CONTACT),
        "phone": _contact(Category.CONTACT),
        "date_of_birth": _contact(Category.IDENTITY),
        "job_title": _contact(Category.PROFESSIONAL),
        # Staff write notes about the person; they may hold anything, so they are erased with it.
        "notes": _contact(Category.NOTES, provided=False),
        # Keyed digests of the values above: pseudonymous, and erased with them.
        "email_index": _contact(Category.CONTACT, provided=False),
        "phone_index": _contact(Category.CONTACT, provided=False),
        "name_tokens": _contact(Category.IDENTITY, provided=False),
        # The person's id in the system they were imported from, and its keyed digest.
        "external_id": _contact(Category.IDENTITY, provided=False),
        "external_id_index": _contact(Category.IDENTITY, provided=False),
        "email_label": not_personal(),
        "phone_label": not_personal(),
        "is_minor": _contact(Category.IDENTITY, provided=False, plaintext=Plain.CHOICE),
        "company": _contact(Category.PROFESSIONAL),
        "owner": _staff("owner", "team_work"),
        "tags": _contact(Category.PROFESSIONAL, provided=False),
        "status": _contact(Category.PROFESSIONAL, provided=False, plaintext=Plain.CHOICE),
        "preferred_language": _contact(Category.CONTACT, plaintext=Plain.CHOICE),
        # Where the data came from (GDPR Art. 14(2)(f), 15(1)(g)): part of an access answer.
        "source": _contact(Category.USAGE, provided=False, plaintext=Plain.CHOICE),
        "source_detail": _contact(Category.USAGE, provided=False),
        "source_date": _contact(Category.USAGE, provided=False, plaintext=Plain.TIMESTAMP),
        "custom": _contact(Category.PROFESSIONAL, provided=False, plaintext=Plain.NOT_PERSONAL_CUSTOM),
        "custom_personal": _contact(Category.NOTES),
        # When the person restricted processing or objected to marketing (GDPR Art. 18, 21).
        "restricted_at": _contact(Category.USAGE, provided=False, plaintext=Plain.TIMESTAMP),
        "marketing_objection_at": _contact(Category.USAGE, provided=False, plaintext=Plain.TIMESTAMP),
        **TRACKING,
    },
    erasure=delete_row(),
)

SOLE_TRADER = Subject("company", "pk")
classify(
    "contacts.Company",
    {
        "id": not_personal(),
        "organization": not_personal(),
        # The company stays (its people, deals and history are the organization's); the
        # sole trader's name is replaced (see the model's erasure) and their details blanked.
        "name": personal(
            Category.PROFESSIONAL, subject=SOLE_TRADER, retention="contact", purpose=PURPOSE, provided=True
        ),
        "name_tokens": personal(Category.PROFESSIONAL, subject=SOLE_TRADER, retention="contact", purpose=PURPOSE),
        "name_index": personal(Category.PROFESSIONAL, subject=SOLE_TRADER, retention="contact", purpose=PURPOSE),
        "external_id": not_personal("the company's id in the system it was imported from"),
        "external_id_index": not_personal("a keyed digest of the external id"),
        **{
            name: personal(
                category,
                subject=SOLE_TRADER,
                erasure=Erasure.BLANK,
                retention="contact",
                purpose=PURPOSE,
                provided=True,
            )
            for name, category in (
                ("phone", Category.CONTACT),
                ("address", Category.CONTACT),
                ("notes", Category.NOTES),
                ("custom_personal", Category.NOTES),
            )
        },
        "domain": not_personal("a business's website"),
        "industry": not_personal(),
        "size": not_personal(),
        "owner": _staff("owner", "team_work"),
        "tags": not_personal(),
        "custom": not_personal("custom fields marked not personal by the organization"),
        **TRACKING,
    },
    erasure=anonymise(name="Anonymised company {pk}"),
)

# The search tables: one keyed token per name prefix, derived from the rows above by a
# trigger and deleted with them.
classify(
    "contacts.ContactNameToken",
    {
        "id": not_personal(),
        "organization": not_personal(),
        "contact": _contact(Category.IDENTITY, provided=False, subject=VIA_CONTACT),
        "token": personal(
            Category.IDENTITY,
            subject=VIA_CONTACT,
            retention="contact",
            purpose=PURPOSE,
            plaintext=Plain.KEYED_TOKEN,
            derived_from="contacts.Contact.name_tokens",
        ),
    },
    erasure=delete_row(),
)
classify(
    "contacts.CompanyNameToken",
    {
        "id": not_personal(),
        "organization": not_personal(),
        "company": personal(
            Category.PROFESSIONAL, subject=Subject("company", "company"), retention="contact", purpose=PURPOSE
        ),
        "token": personal(
            Category.PROFESSIONAL,
            subject=Subject("company", "company"),
            retention="contact",
            purpose=PURPOSE,
            plaintext=Plain.KEYED_TOKEN,
            derived_from="contacts.Company.name_tokens",
        ),
    },
    erasure=delete_row(),
)


def _of_contact(category, *, provided=True, plaintext=""):
    return _contact(category, provided=provided, subject=VIA_CONTACT, plaintext=plaintext)


classify(
    "contacts.ContactEmail",
    {
        "id": not_personal(),
        "organization": not_personal(),
        "contact": _of_contact(Category.CONTACT),
        "label": _of_contact(Category.CONTACT, plaintext=Plain.CHOICE),
        "email": _of_contact(Category.CONTACT),
        "email_index": _of_contact(Category.CONTACT, provided=False),
    },
    erasure=delete_row(),
)
classify(
    "contacts.ContactPhone",
    {
        "id": not_personal(),
        "organization": not_personal(),
        "contact": _of_contact(Category.CONTACT),
        "label": _of_contact(Category.CONTACT, plaintext=Plain.CHOICE),
        "phone": _of_contact(Category.CONTACT),
        "phone_index": _of_contact(Category.CONTACT, provided=False),
    },
    erasure=delete_row(),
)
classify(
    "contacts.ContactAddress",
    {
        "id": not_personal(),
        "organization": not_personal(),
        **{name: _of_contact(Category.CONTACT) for name in ("contact", "street", "city", "postal_code", "region")},
        "label": _of_contact(Category.CONTACT, plaintext=Plain.CHOICE),
        "country": _of_contact(Category.CONTACT, plaintext=Plain.CHOICE),
    },
    erasure=delete_row(),
)
classify(
    "contacts.Tag",
    {"id": not_personal(), "organization": not_personal(), "name": not_personal(), "created_at": not_personal()},
)
classify(
    "contacts.ContactTag",
    {
        "id": not_personal(),
        "organization": not_personal(),
        "contact": _of_contact(Category.PROFESSIONAL, provided=False),
        "tag": _of_contact(Category.PROFESSIONAL, provided=False),
    },
    erasure=delete_row(),
)
classify(
    "contacts.CompanyTag",
    {"id": not_personal(), "organization": not_personal(), "company": not_personal(), "tag": not_personal()},
)
classify(
    "contacts.ContactShare",
    {
        "id": not_personal(),
        "organization": not_personal(),
        "contact": _of_contact(Category.USAGE, provided=False),
        "user": _staff("user", "team_work", erasure=Erasure.DELETE_ROW),
    },
    erasure=delete_row(),
)
classify(
    "contacts.CustomField",
    {
        name: not_personal("the definition of a field, not its values")
        for name in ("id", "organization", "entity", "key", "label", "kind", "choices", "is_personal", "position")
    },
)
classify(
    "contacts.SavedView",
    {
        "id": not_personal(),
        "organization": not_personal(),
        "entity": not_personal(),
        "name": not_personal(),
        "owner": _staff("owner", "team_work", erasure=Erasure.DELETE_ROW),
        "is_shared": not_personal(),
        "params": not_personal("filter settings on structure: tag and user ids, statuses, dates, columns"),
        # A company name typed as a filter can name a person (a sole trader); whose data
        # it is cannot be known, so it is the view owner's and goes with the view.
        "personal_params": personal(
            Category.NOTES,
            subject=user_via("owner"),
            erasure=Erasure.DELETE_ROW,
            retention="account",
            purpose="team_work",
        ),
        "created_at": not_personal(),
    },
)
