"""`{{ code|country_name }}` and `{{ code|language_name }}`: a stored ISO code ("RO", "ro")
as the reader's language names it ("România", "Română")."""

from django import template

from logicnet import locale_names

register = template.Library()


@register.filter(name="country_name")
def country_name(code: str) -> str:
    return locale_names.country_name(code)


@register.filter(name="language_name")
def language_name(code: str) -> str:
    return locale_names.language_name(code)
