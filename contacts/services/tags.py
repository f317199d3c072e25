"""Tag names, one rule for contacts, companies and every form and import that sets them:
whitespace collapsed, the same tag whatever its case ("VIP" and "vip" are one tag, the first
spelling kept), at most 60 characters, refused with a message rather than cut."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from accounts.models import Organization
from contacts.models import Tag

MAX_LENGTH = Tag._meta.get_field("name").max_length


def split_tag_names(value: str) -> list[str]:
    """ "vip, Client  nou,vip" -> ["vip", "Client nou"]: a comma-separated field as tag names."""
    return clean_tag_names((value or "").split(","))


def clean_tag_names(names: Iterable[str]) -> list[str]:
    """The names collapsed and deduplicated case-insensitively, in the order given; a
    ValidationError when one is longer than a tag can be."""
    wanted: dict[str, str] = {}
    for name in names:
        name = " ".join(str(name).split())
        if not name:
            continue
        if len(name) > MAX_LENGTH:
            raise ValidationError(_("A tag can have at most 60 characters."), code="tag_too_long")
        wanted.setdefault(name.casefold(), name)
    return list(wanted.values())


def tags_named(organization: Organization, names: Iterable[str]) -> list[Tag]:
    """The organization's tags with these names (inside its context), created when missing;
    an existing tag is found whatever the case it was typed in."""
    try:
        wanted = clean_tag_names(names)
    except ValidationError as exc:
        raise ValidationError({"tags": exc.messages}) from None
    if not wanted:
        return []
    existing = {tag.name.casefold(): tag for tag in Tag.objects.filter(organization=organization)}
    tags = []
    for name in wanted:
        tag = existing.get(name.casefold())
        if tag is None:
            tag, _created = Tag.objects.get_or_create(organization=organization, name=name)
        tags.append(tag)
    return tags
