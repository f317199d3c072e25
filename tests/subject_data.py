"""A contact with a distinctive value in every kind of field that can hold their data, for the
access and erasure tests: extra emails, phones, addresses, tags, custom values (plain and
personal), tasks, interactions alone and shared with two other contacts."""

from __future__ import annotations

import datetime

from django.utils import timezone

from activity.services import create_task, log_interaction
from contacts.services.companies import create_company
from contacts.services.contacts import create_contact
from contacts.services.custom_fields import create_custom_field

FIRST, LAST = "Quenbyra", "Marrowfeld"
EMAIL = "quenbyra.marrowfeld@zorvexquill.test"
EXTRA_EMAIL = "q.marrow@brindlewick.test"
PHONE = "+40 722 918 374"
EXTRA_PHONE = "+40 733 561 209"
STREET = "Strada Ploverneck 9"
NICKNAME = "Kestrivane"  # a personal custom value
QUARRY = "Plumbrookite"  # a plain custom value
NOTE = "Prefers Vantablossom tea <script>alert(1)</script>"
SOLO_INTERACTION = ("Call about Brindlethorpe", "Asked about Saffrowick invoices")
SHARED_INTERACTION = ("Quarterly review", "Three of them met about the Harrowquay depot")
TASK_TITLE = "Send Quillfeather contract"

OTHERS = [
    {"first_name": "Olwenna", "last_name": "Trevithick", "email": "olwenna@harrowquay.test"},
    {"first_name": "Peregrin", "last_name": "Ashcombe", "email": "peregrin@harrowquay.test"},
]

# What must be gone after erasure: the subject's identifying values.
IDENTIFYING = [FIRST, LAST, EMAIL, EXTRA_EMAIL, PHONE, EXTRA_PHONE, STREET, NICKNAME, "722918374", "733561209"]


def make_subject(organization, actor, *, interactions: int = 1) -> dict:
    create_custom_field(organization=organization, actor=actor, entity="contact", label="Quarry", kind="text")
    create_custom_field(
        organization=organization, actor=actor, entity="contact", label="Nickname", kind="text", is_personal=True
    )
    company = create_company(organization=organization, actor=actor, name="Wexbrindle Holdings")
    contact = create_contact(
        organization=organization,
        actor=actor,
        data={
            "first_name": FIRST,
            "last_name": LAST,
            "email": EMAIL,
            "phone": PHONE,
            "job_title": "Thistlewright",
            "notes": NOTE,
            "source_detail": "Glimmerholt fair",
            "company": company,
            "owner": actor,
            "tags": ["vip", "tea"],
            "custom": {"quarry": QUARRY, "nickname": NICKNAME},
            "extra_emails": [{"email": EXTRA_EMAIL, "label": "home"}],
            "extra_phones": [{"phone": EXTRA_PHONE, "label": "home"}],
            "addresses": [{"street": STREET, "city": "Cluj-Napoca", "postal_code": "400001", "country": "ro"}],
        },
    )
    others = [create_contact(organization=organization, actor=actor, data=data) for data in OTHERS]
    now = timezone.now()
    solo = [
        log_interaction(
            organization=organization,
            actor=actor,
            kind="call",
            occurred_at=now - datetime.timedelta(minutes=n),
            subject=SOLO_INTERACTION[0],
            body=SOLO_INTERACTION[1],
            contacts=[contact],
        )
        for n in range(interactions)
    ]
    shared = log_interaction(
        organization=organization,
        actor=actor,
        kind="meeting",
        occurred_at=now,
        subject=SHARED_INTERACTION[0],
        body=SHARED_INTERACTION[1],
        contacts=[contact, *others],
    )
    task = create_task(
        organization=organization,
        actor=actor,
        title=TASK_TITLE,
        due_at=now + datetime.timedelta(days=1),
        assignee=actor,
        contact=contact,
    )
    return {"contact": contact, "others": others, "company": company, "solo": solo, "shared": shared, "task": task}
