"""The board's cards, rendered in Python: a board shows up to 25 cards in each of its columns,
and the template engine spent about a millisecond on each (an include, a "Move to…" form with
its CSRF field and a loop over the stages per card). What every card shares (the translated
labels, the CSRF field, each stage's "Move to…" choices) is built once per page; each card is
then a few escaped strings. The board, a column's next page and a moved card all come from
here, so there is one markup for a card."""

from __future__ import annotations

from collections.abc import Iterable

from django.middleware.csrf import get_token
from django.template.defaultfilters import floatformat
from django.utils import formats
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _


class CardRenderer:
    """Renders the cards of one page: `render(card, message=..., refused=...)`."""

    def __init__(self, request, *, stages: Iterable, can_write: bool) -> None:
        self.can_write = can_write
        stages = list(stages)
        self.closes = _("closes")
        self.rotting = format_html('<span class="badge badge-rotting">{}</span>', _("rotting"))
        self.move_to = _("Move to…")
        self.csrf = (
            format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', get_token(request))
            if can_write
            else ""
        )
        # Each stage's menu offers every other stage: built once per page, not per card.
        self.options = {
            stage.pk: format_html_join(
                "",
                '<li><button type="submit" class="linklike" name="stage" value="{}">{}</button></li>',
                ((other.pk, other.name) for other in stages if other.pk != stage.pk),
            )
            for stage in stages
        }

    def render(self, card: dict, *, message: str = "", refused: bool = False) -> SafeString:
        deal = card["deal"]
        title = conditional_escape(deal.title)
        attributes = format_html(
            ' id="deal-{0}" data-deal-id="{0}" data-version="{1}" data-stage="{2}" data-move-url="{3}"',
            deal.pk,
            deal.version,
            deal.stage_id,
            card["move_url"],
        )
        if refused:
            attributes += mark_safe(' data-refused="1"')
        if message:
            attributes += format_html(' data-message="{}"', message)
        meta = [format_html('<span class="deal-card-value">{} {}</span>', floatformat(deal.value, "2g"), deal.currency)]
        if deal.expected_close:
            meta.append(
                format_html(
                    "<span>{} {}</span>", self.closes, formats.date_format(deal.expected_close, "SHORT_DATE_FORMAT")
                )
            )
        if deal.owner_id and deal.owner:
            meta.append(format_html('<span class="muted">{}</span>', deal.owner.full_name or deal.owner.email))
        if card["rotting"]:
            meta.append(self.rotting)
        menu = ""
        if self.can_write:
            label = _("Move “%(title)s” to another stage") % {"title": deal.title}
            menu = format_html(
                '<details class="move-menu"><summary aria-label="{0}">{1}</summary>'
                '<form method="post" action="{2}" hx-post="{2}" hx-target="closest .deal-card" hx-swap="outerHTML">{3}'
                '<input type="hidden" name="version" value="{4}"><ul>{5}</ul></form></details>',
                label,
                self.move_to,
                card["move_url"],
                self.csrf,
                deal.version,
                self.options.get(deal.stage_id, ""),
            )
        return format_html(
            '<li class="deal-card{}"{}><a class="deal-card-title" href="{}">{}</a>'
            '<div class="deal-card-meta">{}</div>{}</li>',
            " is-rotting" if card["rotting"] else "",
            attributes,
            card["detail_url"],
            title,
            mark_safe("".join(meta)),  # noqa: S308 - each part built with format_html above
            menu,
        )

    def render_all(self, cards: Iterable[dict]) -> SafeString:
        return mark_safe("".join(self.render(card) for card in cards))  # noqa: S308 - rendered escaped
