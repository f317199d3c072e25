"""Personal-data classification of contacts. The organization is the controller of this
data (Logicnet the processor); erasing a contact deletes its row."""

from logicnet.personal_data.registry import THE_CONTACT, Category, Erasure, Subject, classify, not_personal, personal

PURPOSE = "managing the organization's customer relationships"


def _contact(category, *, provided=True, subject=THE_CONTACT):
    return personal(
        category, subject=subject, erasure=Erasure.DELETE_ROW, retention="contact", purpose=PURPOSE, provided=provided
    )


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
        "created_at": not_personal(),
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
        "created_at": not_personal(),
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
        "token": _contact(Category.IDENTITY, provided=False, subject=Subject("contact", "contact")),
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
        ),
    },
)
