"""`{{ value|phone }}`: a stored E.164 number as people read it ("+40 721 234 567");
`{{ value|tel_link }}` and `{{ value|mailto_link }}`: the number and the address as links a
phone taps to call or to write."""

from django import template
from django.utils.html import format_html

from logicnet.normalize import format_phone, mailto_uri, tel_uri

register = template.Library()


@register.filter(name="phone")
def phone(value: str) -> str:
    return format_phone(value)


@register.filter(name="tel_link")
def tel_link(value: str) -> str:
    """The number, formatted, as a `tel:` link (as plain text when nothing is dialable)."""
    href = tel_uri(value)
    if not href:
        return format_phone(value)
    return format_html('<a href="{}" class="tel">{}</a>', href, format_phone(value))


@register.filter(name="mailto_link")
def mailto_link(value: str) -> str:
    """The address as a `mailto:` link."""
    if not value:
        return ""
    return format_html('<a href="{}" class="mailto">{}</a>', mailto_uri(value), value)
