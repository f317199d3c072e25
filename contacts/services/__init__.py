"""Writes to the CRM data, one module per topic (contacts, companies, bulk, activity...).

Import from the topic module: `from contacts.services.contacts import create_contact`.
The names below are re-exported for callers written before the split.
"""

from contacts.services.companies import create_company
from contacts.services.contacts import CONTACT_FIELDS, create_contact

__all__ = ["CONTACT_FIELDS", "create_company", "create_contact"]
