"""`{{ value|phone }}`: a stored E.164 number as people read it ("+40 721 234 567")."""

from django import template

from logicnet.normalize import format_phone

register = template.Library()


@register.filter(name="phone")
def phone(value: str) -> str:
    return format_phone(value)
