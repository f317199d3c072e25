"""A form renderer that writes the common widgets, labels and error lists in Python.

Django renders every widget, label and error list of a form through a template: on the
contacts list (a filter form and a bulk form, some fifty options) that was a third of the
page's CPU time, more than its SQL. This renderer builds the same markup directly for the
templates it knows, byte for byte what the templates make (tests/test_form_renderer.py
renders every field both ways and compares), and hands any other template to the
project's templates as TemplatesSetting does (settings.FORM_RENDERER).

Escaping follows the templates' autoescaping: a value already marked safe is kept, any
other value is escaped.
"""

from __future__ import annotations

from collections.abc import Callable

from django.forms.renderers import TemplatesSetting
from django.template.base import template_localtime
from django.utils.formats import localize
from django.utils.functional import Promise
from django.utils.html import escape
from django.utils.safestring import SafeData


def _text(value) -> str:
    """`{{ value|stringformat:'s' }}` in an autoescaping template."""
    if isinstance(value, Promise):
        value = str(value)
    if isinstance(value, SafeData):
        return str(value)
    return escape(value)


def _shown(value) -> str:
    """`{{ value }}` in an autoescaping template: numbers and dates localized first."""
    if isinstance(value, str):
        return value if isinstance(value, SafeData) else escape(value)
    return _text(localize(template_localtime(value)))


def _attrs(attrs: dict) -> str:
    """django/forms/attrs.html and django/forms/widgets/attrs.html."""
    parts = []
    for name, value in (attrs or {}).items():
        if value is False:
            continue
        if value is True:
            parts.append(f" {_shown(name)}")
        else:
            parts.append(f' {_shown(name)}="{_text(value)}"')
    return "".join(parts)


def _input(context: dict) -> str:
    """django/forms/widgets/input.html (text, date, hidden, number, email... inputs)."""
    widget = context["widget"]
    value = "" if widget["value"] is None else f' value="{_text(widget["value"])}"'
    return f'<input type="{_shown(widget["type"])}" name="{_shown(widget["name"])}"{value}{_attrs(widget["attrs"])}>'


def _select(context: dict) -> str:
    """templates/django/forms/widgets/select.html (the project's, options inlined)."""
    widget = context["widget"]
    parts = [f'<select name="{_shown(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{_shown(group_name)}">')
        for option in group_choices:
            parts.append(
                f'\n  <option value="{_text(option["value"])}"{_attrs(option["attrs"])}>{_shown(option["label"])}</option>'
            )
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


def _multiple_input(context: dict) -> str:
    """templates/django/forms/widgets/multiple_input.html (checkboxes, radio buttons)."""
    widget = context["widget"]
    attrs = widget["attrs"]
    id_ = attrs.get("id")
    parts = ["<div"]
    if id_:
        parts.append(f' id="{_shown(id_)}"')
    if attrs.get("class"):
        parts.append(f' class="{_shown(attrs["class"])}"')
    parts.append(">")
    for group, options, _index in widget["optgroups"]:
        if group:
            parts.append(f"\n  <div><label>{_shown(group)}</label>")
        for option in options:
            parts.append("<div>\n    ")
            option_attrs = option["attrs"]
            if option["wrap_label"]:
                parts.append(f'<label for="{_shown(option_attrs["id"])}">' if option_attrs.get("id") else "<label>")
            value = "" if option["value"] is None else f' value="{_text(option["value"])}"'
            parts.append(f'<input type="{_shown(option["type"])}" name="{_shown(option["name"])}"{value}')
            parts.append(f"{_attrs(option_attrs)}>")
            if option["wrap_label"]:
                parts.append(f" {_shown(option['label'])}</label>")
            parts.append("</div>")
        if group:
            parts.append("\n  </div>")
    parts.append("\n</div>")
    return "".join(parts)


def _label(context: dict) -> str:
    """django/forms/label.html."""
    if not context["use_tag"]:
        return _shown(context["label"]).strip()
    tag = _shown(context["tag"])
    return f"<{tag}{_attrs(context['attrs'])}>{_shown(context['label'])}</{tag}>"


def _error_list(context: dict) -> str:
    """django/forms/errors/list/default.html (its ul.html)."""
    errors = context["errors"]
    if not errors:
        return ""
    field_id = getattr(errors, "field_id", None)
    id_ = f' id="{_shown(field_id)}_error"' if field_id else ""
    items = "".join(f"<li>{_shown(error)}</li>" for error in errors)
    return f'<ul class="{_shown(context["error_class"])}"{id_}>{items}</ul>'


INPUT_TYPES = ("text", "number", "email", "url", "password", "hidden", "date", "datetime", "time", "search", "tel")
BUILDERS: dict[str, Callable[[dict], str]] = {
    **{f"django/forms/widgets/{kind}.html": _input for kind in INPUT_TYPES},
    "django/forms/widgets/input.html": _input,
    "django/forms/widgets/select.html": _select,
    "django/forms/widgets/checkbox_select.html": _multiple_input,
    "django/forms/widgets/radio.html": _multiple_input,
    "django/forms/widgets/multiple_input.html": _multiple_input,
    "django/forms/label.html": _label,
    "django/forms/errors/list/default.html": _error_list,
    "django/forms/errors/list/ul.html": _error_list,
}


class PythonFormRenderer(TemplatesSetting):
    """TemplatesSetting, with the templates in BUILDERS written in Python."""

    def render(self, template_name, context, request=None):
        build = BUILDERS.get(template_name)
        if build is None:
            return super().render(template_name, context, request=request)
        return build(context)
