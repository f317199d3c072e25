"""Country and language names in the reader's language, sorted as that language sorts them.

Country names come from pycountry (ISO 3166-1 and the iso-codes project's translations, a
maintained data set rather than a list kept here); language names from Django's own catalog
(`get_language_info`). Sorting follows the language's alphabet: Romanian puts ă after a,
â after ă, î after i, ș after s and ț after t (so "Țara Galilor" does not sort before
"Ucraina"), and ignores other accents as every Latin-script collation does ("Åland" sorts
under A). A Romanian reader finds Romania first.

Sorted lists are cached per language: 249 names collated on every form render cost about a
millisecond, for data that changes only with a pycountry upgrade.
"""

from __future__ import annotations

import functools
import gettext
import unicodedata

import pycountry
from django.conf import global_settings
from django.utils.translation import get_language, get_language_info, override

# Letters a language's alphabet orders as their own letters after the base letter, by the
# combining mark that makes them (NFD): Romanian's breve, circumflex (â, î), comma below and
# the cedilla forms (ş, ţ) still found in older texts.
_OWN_LETTERS = {
    "ro": {"a": ("\u0306", "\u0302"), "i": ("\u0302",), "s": ("\u0326", "\u0327"), "t": ("\u0326", "\u0327")},
}
# Countries a reader of the language looks for first.
_FIRST = {"ro": ("RO",)}


def _language(language: str | None) -> str:
    return (language or get_language() or "en").split("-")[0].lower()


def collation_key(value: str, language: str | None = None) -> tuple:
    """A sort key following `language`'s alphabet (primary letters, then the exact text as a
    tie-break so the order is total)."""
    own = _OWN_LETTERS.get(_language(language), {})
    primary: list[tuple[str, int]] = []
    for char in unicodedata.normalize("NFD", value.casefold()):
        if unicodedata.combining(char):
            if primary:
                marks = own.get(primary[-1][0], ())
                if char in marks and primary[-1][1] == 0:
                    # Equal marks (comma below, cedilla) are one letter: ș and ş sort together.
                    rank = 1 + (marks.index(char) if primary[-1][0] == "a" else 0)
                    primary[-1] = (primary[-1][0], rank)
            continue
        if char.isalnum():
            primary.append((char, 0))
    return (primary, value)


@functools.cache
def _country_catalog(language: str) -> gettext.NullTranslations:
    if language == "en":
        return gettext.NullTranslations()
    return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language], fallback=True)


def _translated(country, language: str) -> str:
    """The common name ("Moldova") where the catalog has it, else the official short name
    ("Moldova, Republica")."""
    catalog = _country_catalog(language)
    common = getattr(country, "common_name", None)
    if common:
        translated = catalog.gettext(common)
        if translated != common or language == "en":
            return translated
    return catalog.gettext(country.name)


def country_name(code: str, language: str | None = None) -> str:
    """The country's name in `language` (the active one by default); the code itself when
    ISO 3166-1 does not list it (phone regions such as "XK" or "AC")."""
    if not code:
        return ""
    country = pycountry.countries.get(alpha_2=code.upper())
    return _translated(country, _language(language)) if country else code.upper()


@functools.cache
def _sorted_countries(language: str, codes: frozenset[str] | None) -> tuple[tuple[str, str], ...]:
    pairs = [
        (country.alpha_2, _translated(country, language))
        for country in pycountry.countries
        if codes is None or country.alpha_2 in codes
    ]
    if codes is not None:  # codes pycountry does not know keep their code as the name
        known = {code for code, _name in pairs}
        pairs += [(code, code) for code in codes - known]
    pairs.sort(key=lambda pair: collation_key(pair[1], language))
    first = [pair for code in _FIRST.get(language, ()) for pair in pairs if pair[0] == code]
    return tuple(first + [pair for pair in pairs if pair not in first])


def country_choices(codes=None, *, blank: str | None = None, language: str | None = None) -> list[tuple[str, str]]:
    """(code, name) pairs for a select, in the active language and its order; only `codes`
    when given; a first empty choice labelled `blank` when given."""
    pairs = list(_sorted_countries(_language(language), frozenset(codes) if codes is not None else None))
    return [("", blank), *pairs] if blank is not None else pairs


def language_name(code: str, language: str | None = None) -> str:
    """A language's name in `language` (Django's catalog), the code when Django does not
    know it."""
    if not code:
        return ""
    try:
        info = get_language_info(code)
    except KeyError:
        return code
    with override(_language(language)):
        return str(info["name_translated"])


@functools.cache
def _sorted_languages(language: str) -> tuple[tuple[str, str], ...]:
    pairs = [(code, language_name(code, language)) for code, _english in global_settings.LANGUAGES]
    pairs.sort(key=lambda pair: collation_key(pair[1], language))
    return tuple(pairs)


def language_choices(*, blank: str | None = None, language: str | None = None) -> list[tuple[str, str]]:
    """Every language Django names, in the active language and its order."""
    pairs = list(_sorted_languages(_language(language)))
    return [("", blank), *pairs] if blank is not None else pairs
