"""Personal-data classification of the revert journal: the previous values of rows a bulk
write updated are the person's data (sealed, like the row they came from). An erased person's
entries go with them, so a revert can never bring their data back; every entry goes 30 days
after the bulk write, when the operation can no longer be reverted."""

import datetime

from django.utils.translation import gettext_lazy as _

from logicnet.personal_data.registry import (
    Category,
    Plain,
    Subject,
    classify,
    define_retention,
    delete_row,
    not_personal,
    personal,
)

REVERT = define_retention(
    "bulk_revert",
    _("the revert journal of an import: 30 days after the import, then the import can no longer be reverted"),
    anchor="created_at",
    duration=datetime.timedelta(days=30),
)
PURPOSE = "customer_relationships"
THE_CONTACT = Subject("contact", "record_id", also=(("target", "contacts.contact"),))
THE_COMPANY = Subject("company", "record_id", also=(("target", "contacts.company"),))


def _journal(category: str, plaintext: str = ""):
    return personal(
        category,
        subject=THE_CONTACT,
        also_about=(THE_COMPANY,),
        retention=REVERT,
        purpose=PURPOSE,
        plaintext=plaintext,
    )


classify(
    "bulk.RevertEntry",
    {
        "id": not_personal(),
        "organization": not_personal(),
        "batch_ref": not_personal("the id of the import"),
        "target": not_personal("a model label"),
        "record_id": _journal(Category.IDENTITY, plaintext="a row id: links the entry to the row it journals"),
        "action": not_personal(),
        "line": not_personal("a line number of the imported file"),
        "previous": _journal(Category.CONTACT),
        "created_at": _journal(Category.USAGE, plaintext=Plain.TIMESTAMP),
    },
    erasure=delete_row(),
)
