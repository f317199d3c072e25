"""Country and language names in the reader's language, sorted as that language sorts, in
every country select and on the contact record."""

from __future__ import annotations

from django.urls import reverse

from contacts.services.contacts import create_contact
from logicnet.locale_names import collation_key, country_choices, country_name, language_choices, language_name


def test_romanian_order_follows_the_romanian_alphabet():
    words = ["Țara", "Tara", "Ucraina", "Ștefan", "Suedia", "Spania", "Îndia", "Italia", "Ăla", "Âla", "Ba", "Ab"]
    ordered = sorted(words, key=lambda w: collation_key(w, "ro"))
    assert ordered == [
        "Ab",
        "Ăla",
        "Âla",
        "Ba",
        "Italia",
        "Îndia",
        "Spania",
        "Suedia",
        "Ștefan",
        "Tara",
        "Țara",
        "Ucraina",
    ]
    # The cedilla forms of old texts are the same letters.
    assert collation_key("Şt", "ro")[0] == collation_key("Șt", "ro")[0]
    # Other accents are no letters of their own: "Åland" sorts under A in English.
    assert sorted(["Albania", "Åland Islands", "Afghanistan"], key=lambda w: collation_key(w, "en")) == [
        "Afghanistan",
        "Åland Islands",
        "Albania",
    ]


def test_country_choices_are_names_sorted_in_the_readers_language_romania_first_in_romanian():
    romanian = country_choices(language="ro")
    assert romanian[0] == ("RO", "România")
    names = [name for _code, name in romanian[1:]]
    assert names == sorted(names, key=lambda n: collation_key(n, "ro"))
    assert ("DE", "Germania") in romanian and ("MZ", "Mozambic") in romanian
    assert len(romanian) == 249
    english = country_choices(language="en")
    assert english[0] == ("AF", "Afghanistan") and ("RO", "Romania") in english
    # Codes the data does not list (phone regions such as Kosovo's) keep their code.
    assert country_choices(["RO", "XK"], language="ro", blank="—") == [("", "—"), ("RO", "România"), ("XK", "XK")]
    assert country_name("ro", "ro") == "România" and country_name("KP", "en") == "North Korea"


def test_language_names_follow_the_reader():
    assert language_name("ro", "ro") == "Română" and language_name("ro", "en") == "Romanian"
    assert language_name("xx") == "xx"
    names = [name for _code, name in language_choices(language="ro")]
    assert names == sorted(names, key=lambda n: collation_key(n, "ro"))


def test_contact_form_country_and_language_are_named_selects(client, org_a, alice):
    client.force_login(alice)
    page = client.get(reverse("contact_create", args=[org_a.slug]), HTTP_ACCEPT_LANGUAGE="ro").content.decode()
    assert '<option value="ro">Română</option>' in page
    data = {
        "first_name": "Ana",
        "add_address": "1",
        **{f"{kind}-{n}": "0" for kind in ("emails", "phones", "addresses") for n in ("TOTAL_FORMS", "INITIAL_FORMS")},
    }
    page = client.post(reverse("contact_create", args=[org_a.slug]), data, HTTP_ACCEPT_LANGUAGE="ro").content.decode()
    assert '<option value="RO">România</option>' in page
    assert page.index('value="RO">România') < page.index('value="AF">Afganistan') < page.index('value="DE">Germania')


def test_the_record_shows_country_and_language_names(client, org_a, alice):
    contact = create_contact(
        organization=org_a,
        actor=alice,
        data={"first_name": "Ana", "preferred_language": "ro", "addresses": [{"city": "Chișinău", "country": "md"}]},
    )
    client.force_login(alice)
    page = client.get(reverse("contact_detail", args=[org_a.slug, contact.pk])).content.decode()
    assert "Moldova" in page and "<br>MD</address>" not in page
    assert "Romanian" in page


def test_organization_and_billing_country_selects_name_the_countries(client, org_a, alice):
    client.force_login(alice)
    page = client.get(reverse("organization_settings", args=[org_a.slug])).content.decode()
    assert '<option value="RO" selected>Romania</option>' in page
    page = client.get(reverse("billing", args=[org_a.slug])).content.decode()
    assert '<option value="RO" selected>Romania</option>' in page
