"""Organization URLs of the CRM (mounted under /o/<org_slug>/). Each view module keeps
its own `urlpatterns`, so the topics grow without touching one shared list."""

from contacts.views import companies, contacts, lists

urlpatterns = contacts.urlpatterns + lists.urlpatterns + companies.urlpatterns
