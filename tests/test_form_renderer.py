"""The Python form renderer writes exactly what the widget, label and error templates write:
every field of the list forms and of a form with each common widget is rendered both ways
(bound and unbound, valid and not, hostile and safe strings, English and Romanian) and the
markup compared byte for byte."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django import forms
from django.forms.renderers import TemplatesSetting
from django.http import QueryDict
from django.utils import translation
from django.utils.safestring import mark_safe

from contacts.forms_lists import BulkActionForm, CompanyFilterForm, ContactFilterForm, ListChoices
from contacts.models import CustomField, Tag
from logicnet.form_renderer import BUILDERS, PythonFormRenderer
from logicnet.tenancy.context import tenant_context
from tests.shared_fixtures import naughty_strings

HOSTILE = ['<script>alert("x")</script>', "a & b 'quoted'", "Ștefan Țară", "{{ x }} {% y %}"]


class EveryWidgetForm(forms.Form):
    text = forms.CharField(label="Text <b>", max_length=20, help_text="Some help")
    optional = forms.CharField(required=False, widget=forms.TextInput(attrs={"class": "a b", "data-x": True}))
    number = forms.DecimalField(required=False, localize=True)
    integer = forms.IntegerField(required=False, widget=forms.NumberInput(attrs={"disabled": True, "hidden": False}))
    email = forms.EmailField(required=False)
    url = forms.URLField(required=False, assume_scheme="https")
    password = forms.CharField(required=False, widget=forms.PasswordInput(render_value=True))
    day = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    when = forms.DateTimeField(required=False)
    hidden = forms.CharField(required=False, widget=forms.HiddenInput)
    choice = forms.ChoiceField(choices=[("", "---"), ("a", "A <1>"), ("b", mark_safe("<i>B</i>"))], required=False)
    grouped = forms.ChoiceField(
        choices=[("Group <1>", [("x", "X"), ("y", "Y")]), ("z", "Z"), (mark_safe("<b>G2</b>"), [("w", "W")])],
        required=False,
    )
    many = forms.MultipleChoiceField(choices=[("1", "One"), ("2", "Two & more")], required=False)
    ticks = forms.MultipleChoiceField(
        choices=[("1", "One"), ("G", [("2", "Two"), ("3", "Three")])],
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "ticks"}),
    )
    radio = forms.ChoiceField(choices=[("r", "R"), ("s", "S <s>")], widget=forms.RadioSelect, required=False)
    numbers = forms.TypedChoiceField(choices=[(1, 1), (2, Decimal("2.5"))], coerce=int, required=False)


def both_ways(form_class, *args, **kwargs) -> list[tuple[str, str, str]]:
    """(what, template markup, Python markup) of each field's label, widget and errors."""
    rendered = []
    for renderer in (TemplatesSetting(), PythonFormRenderer()):
        form = form_class(*args, renderer=renderer, **kwargs)
        form.is_valid()
        parts = []
        for field in form:
            parts += [(f"{field.name} label", field.label_tag()), (f"{field.name} widget", str(field))]
            parts += [(f"{field.name} errors", str(field.errors))]
            parts += [
                (f"{field.name} legend", field.legend_tag()),
                (f"{field.name} bare label", field.label_tag(tag="")),
            ]
        parts.append(("non-field errors", str(form.non_field_errors())))
        rendered.append(parts)
    return [(what, a, b) for (what, a), (_same, b) in zip(*rendered, strict=True)]


def assert_same(pairs) -> None:
    for what, by_template, by_python in pairs:
        assert by_python == by_template, what


def test_the_builders_know_only_templates_that_exist():
    from django.template.loader import get_template

    for name in BUILDERS:
        get_template(name)


@pytest.mark.parametrize("language", ["en", "ro"])
def test_every_common_widget_renders_as_its_template_does(language):
    with translation.override(language):
        assert_same(both_ways(EveryWidgetForm))
        assert_same(both_ways(EveryWidgetForm, initial={"number": Decimal("1234.5"), "day": datetime.date(2026, 1, 2)}))
        for hostile in [*HOSTILE, *naughty_strings()[:40]]:
            data = QueryDict(mutable=True)
            for key in ("text", "optional", "number", "integer", "email", "url", "password", "day", "when", "hidden"):
                data[key] = hostile
            data.setlist("many", ["2", hostile])
            data.setlist("ticks", ["3", hostile])
            data.update({"choice": "b", "grouped": "y", "radio": hostile, "numbers": "2"})
            assert_same(both_ways(EveryWidgetForm, data))
        good = {"text": "ok", "number": "12,5" if language == "ro" else "12.5", "choice": "a", "radio": "s"}
        assert_same(both_ways(EveryWidgetForm, good, auto_id="bulk_%s"))
        assert_same(both_ways(EveryWidgetForm, good, auto_id=False))


@pytest.mark.parametrize("language", ["en", "ro"])
def test_the_list_forms_render_as_their_templates_do(org_a, alice, bob, language):
    with tenant_context(org_a):
        tags = [Tag.objects.create(organization=org_a, name=name) for name in ["vip", *HOSTILE]]
        fields = [
            CustomField.objects.create(organization=org_a, entity=entity, key=f"k{kind}", label=f"<{kind}>", kind=kind)
            for entity in ("contact", "company")
            for kind in ("text", "number", "date", "checkbox")
        ]
        fields.append(
            CustomField.objects.create(
                organization=org_a, entity="contact", key="kchoice", label="Choice", kind="choice", choices=HOSTILE
            )
        )
        choices = ListChoices.of(org_a)
        contact_fields = [f for f in fields if f.entity == "contact"]
        company_fields = [f for f in fields if f.entity == "company"]
        queries = [
            "",
            f"tag={tags[0].pk}&tag={tags[1].pk}&owner={bob.pk}&status=customer&sort=-updated&col=email&col=kx",
            "tag=999999&owner=nobody&created_from=2026-13-01&updated_to=bad&sort=<x>&cf_knumber=x&cf_kdate=2026-02-30",
            "company_name=" + HOSTILE[0] + "&cf_ktext=" + HOSTILE[1] + "&cf_kcheckbox=yes&cf_kchoice=" + HOSTILE[2],
        ]
        with translation.override(language):
            for query in queries:
                data = QueryDict(query)
                common = {"organization": org_a, "choices": choices}
                assert_same(both_ways(ContactFilterForm, data, custom_fields=contact_fields, **common))
                assert_same(both_ways(CompanyFilterForm, data, custom_fields=company_fields, **common))
                assert_same(both_ways(BulkActionForm, data if query else None, **common))
