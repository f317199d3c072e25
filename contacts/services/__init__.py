"""Writes to the CRM data, one module per topic (contacts, companies, bulk, activity...):
`from contacts.services.contacts import create_contact`."""
