"""Personal-data classification of contacts. The organization is the controller of this
data (Logicnet the processor); erasing a contact deletes its row."""

from logicnet.personal_data.registry import (
    THE_CONTACT,
    Category,
    Erasure,
    Plain,
    Subject,
    classify,
    not_personal,
    personal,
    user_via,
)

PURPOSE = "managing the organization's customer relationships"


def _contact(category, *, provided=True, subject=THE_CONTACT, plaintext=""):
    return personal(
        category,
        subject=subject,
        erasure=Erasure.DELETE_ROW,
        retention="contact",
        purpose=PURPOSE,
        provided=provided,
        plaintext=plaintext,
    )


def _staff(lookup: str, purpose: str = "recording which team member did what") -> object:
    """A team member named on a CRM row (the user is the subject; Logicnet the controller)."""
    return personal(
        Category.USAGE, subject=user_via(lookup), erasure=Erasure.BLANK, retention="account", purpose=purpose
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
        "email_label": not_personal(),
        "phone_label": not_personal(),
        "is_minor": _contact(Category.IDENTITY, provided=False, plaintext=Plain.CHOICE),
        "company": _contact(Category.PROFESSIONAL),
        "owner": _staff("owner", "assigning contacts to team members"),
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
)

# A company's name can name a person (a sole trader): the company row is then about them.
SOLE_TRADER = Subject("company", "pk")
classify(
    "contacts.Company",
    {
        "id": not_personal(),
        "organization": not_personal(),
        "name": personal(
            Category.PROFESSIONAL,
            subject=SOLE_TRADER,
            erasure=Erasure.ANONYMISE,
            retention="contact",
            purpose=PURPOSE,
        ),
        "name_tokens": personal(
            Category.PROFESSIONAL,
            subject=SOLE_TRADER,
            erasure=Erasure.ANONYMISE,
            retention="contact",
            purpose=PURPOSE,
        ),
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
        "owner": _staff("owner", "assigning companies to team members"),
        "tags": not_personal(),
        "custom": not_personal("custom fields marked not personal by the organization"),
        **TRACKING,
    },
)

# The search tables: one keyed token per name prefix, derived from the rows above by a
# trigger and deleted with them.
classify(
    "contacts.ContactNameToken",
    {
        "id": not_personal(),
        "organization": not_personal(),
        "contact": _contact(Category.IDENTITY, provided=False, subject=Subject("contact", "contact")),
        "token": _contact(
            Category.IDENTITY, provided=False, subject=Subject("contact", "contact"), plaintext=Plain.KEYED_TOKEN
        ),
    },
)
classify(
    "contacts.CompanyNameToken",
    {
        "id": not_personal(),
        "organization": not_personal(),
        "company": personal(
            Category.PROFESSIONAL,
            subject=Subject("company", "company"),
            erasure=Erasure.DELETE_ROW,
            retention="contact",
            purpose=PURPOSE,
        ),
        "token": personal(
            Category.PROFESSIONAL,
            subject=Subject("company", "company"),
            erasure=Erasure.DELETE_ROW,
            retention="contact",
            purpose=PURPOSE,
            plaintext=Plain.KEYED_TOKEN,
        ),
    },
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
        "user": _staff("user", "sharing contacts between team members"),
    },
)
classify(
    "contacts.CustomField",
    {
        name: not_personal("the definition of a field, not its values")
        for name in ("id", "organization", "entity", "key", "label", "kind", "choices", "is_personal", "position")
    },
)
# An interaction is about its participants; its text may hold anything about them.
INTERACTION_SUBJECT = Subject("contact", "participants")
classify(
    "contacts.Interaction",
    {
        "id": not_personal(),
        "organization": not_personal(),
        "kind": not_personal(),
        "occurred_at": personal(
            Category.USAGE,
            subject=INTERACTION_SUBJECT,
            erasure=Erasure.DELETE_ROW,
            retention="contact",
            purpose=PURPOSE,
            plaintext=Plain.TIMESTAMP,
        ),
        "author": _staff("author"),
        "subject": personal(
            Category.NOTES,
            subject=INTERACTION_SUBJECT,
            erasure=Erasure.DELETE_ROW,
            retention="contact",
            purpose=PURPOSE,
        ),
        "body": personal(
            Category.NOTES,
            subject=INTERACTION_SUBJECT,
            erasure=Erasure.DELETE_ROW,
            retention="contact",
            purpose=PURPOSE,
        ),
        "company": not_personal(),
        "participants": personal(
            Category.USAGE,
            subject=INTERACTION_SUBJECT,
            erasure=Erasure.DELETE_ROW,
            retention="contact",
            purpose=PURPOSE,
        ),
        "created_at": not_personal(),
    },
)
classify(
    "contacts.InteractionParticipant",
    {
        "id": not_personal(),
        "organization": not_personal(),
        "interaction": _of_contact(Category.USAGE, provided=False),
        "contact": _of_contact(Category.USAGE, provided=False),
        "occurred_at": _of_contact(Category.USAGE, provided=False, plaintext=Plain.TIMESTAMP),
    },
)
classify(
    "contacts.Task",
    {
        "id": not_personal(),
        "organization": not_personal(),
        "title": _of_contact(Category.NOTES, provided=False),
        "due_at": not_personal(),
        "assignee": _staff("assignee", "assigning tasks"),
        "contact": _of_contact(Category.USAGE, provided=False),
        "company": not_personal(),
        "done_at": not_personal(),
        "reminder_sent_at": not_personal(),
        "created_by": _staff("created_by"),
        "created_at": not_personal(),
    },
)
classify(
    "contacts.SavedView",
    {
        "id": not_personal(),
        "organization": not_personal(),
        "entity": not_personal(),
        "name": not_personal(),
        "owner": _staff("owner", "keeping a user's saved list views"),
        "is_shared": not_personal(),
        "params": not_personal("filter settings on structure: tag and user ids, statuses, dates, columns"),
        # A company name typed as a filter can name a person (a sole trader); whose data
        # it is cannot be known, so it is the view owner's and goes with the view.
        "personal_params": personal(
            Category.NOTES,
            subject=user_via("owner"),
            erasure=Erasure.DELETE_ROW,
            retention="account",
            purpose="keeping a user's saved list views",
        ),
        "created_at": not_personal(),
    },
)
