"""The Romanian catalog is complete, current and compiled, and the site speaks it.

locale/ro/LC_MESSAGES/django.po and the compiled django.mo are both committed (a machine
without GNU gettext can still serve Romanian). `make messages` regenerates them; these
tests fail, naming the strings, when someone adds text without translating it.
"""

from __future__ import annotations

import ast
import gettext
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "locale" / "ro" / "LC_MESSAGES" / "django.po"
COMPILED = CATALOG.with_suffix(".mo")
MAKEMESSAGES = ["makemessages", "-l", "ro", "--no-obsolete", "--ignore=.venv", "--ignore=staticfiles", "--ignore=tests"]
GETTEXT_TOOLS = ("xgettext", "msguniq", "msgmerge", "msgattrib")
# Not copied into the scratch project that the catalog is re-extracted from.
NOT_SOURCE = {".venv", ".data", ".git", "staticfiles", "tests", "test-results", "node_modules"}
ROMANIAN_PLURALS = "nplurals=3; plural=(n==1 ? 0 : (n==0 || (n!=1 && n%100>0 && n%100<20)) ? 1 : 2);"
PLACEHOLDER = re.compile(r"%(?:\([^)]+\))?[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrs]")
CEDILLA = {"\u015e": "Ș", "\u015f": "ș", "\u0162": "Ț", "\u0163": "ț"}  # Ş ş Ţ ţ: wrong letters
FOOTER = "Logicnet CRM — hosted in the European Economic Area."


# --- A small .po reader ------------------------------------------------------------------------


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0

    @property
    def key(self) -> tuple[str | None, str, str | None]:
        return (self.msgctxt, self.msgid, self.msgid_plural)

    @property
    def label(self) -> str:
        context = f"[{self.msgctxt}] " if self.msgctxt else ""
        return f"{context}{self.msgid!r} (django.po line {self.line})"


def read_po(path: Path) -> tuple[Entry, list[Entry]]:
    """(header, entries) of a gettext catalog; obsolete (#~) entries are left out."""
    entries: list[Entry] = []
    entry, target = Entry(), None

    def finish() -> None:
        nonlocal entry, target
        if target is not None:
            entries.append(entry)
        entry, target = Entry(), None

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            finish()
        elif line.startswith("#,"):
            if target is not None and target != "msgctxt":
                finish()
            entry.flags.update(flag.strip() for flag in line[2:].split(",") if flag.strip())
        elif line.startswith("#"):
            continue  # translator, reference and obsolete (#~) comments
        elif line.startswith('"'):
            _append(entry, target, ast.literal_eval(line))
        else:
            keyword, _, value = line.partition(" ")
            if keyword in ("msgctxt", "msgid") and target is not None and target.startswith("msgstr"):
                finish()
            target = keyword
            if not entry.line:
                entry.line = number
            if keyword.startswith("msgstr["):
                entry.msgstr.setdefault(int(keyword[7:-1]), "")
            _append(entry, target, ast.literal_eval(value))
    finish()
    header = next((e for e in entries if e.msgid == "" and e.msgctxt is None), Entry())
    return header, [e for e in entries if e is not header]


def _append(entry: Entry, target: str | None, text: str) -> None:
    if target == "msgid":
        entry.msgid += text
    elif target == "msgid_plural":
        entry.msgid_plural = (entry.msgid_plural or "") + text
    elif target == "msgctxt":
        entry.msgctxt = (entry.msgctxt or "") + text
    elif target == "msgstr":
        entry.msgstr[0] = entry.msgstr.get(0, "") + text
    elif target and target.startswith("msgstr["):
        index = int(target[7:-1])
        entry.msgstr[index] = entry.msgstr.get(index, "") + text
    else:
        raise ValueError(f"unexpected text outside an entry: {text!r}")


def header_fields(header: Entry) -> dict[str, str]:
    lines = header.msgstr.get(0, "").splitlines()
    return {name.strip(): value.strip() for name, _, value in (line.partition(":") for line in lines)}


@pytest.fixture(scope="module")
def catalog() -> tuple[Entry, list[Entry]]:
    assert CATALOG.exists(), f"{CATALOG.relative_to(ROOT)} is missing: run `make messages`"
    return read_po(CATALOG)


@pytest.fixture(autouse=True)
def _restore_language():
    # The test client's requests activate Romanian in this thread; later tests expect English.
    with translation.override(translation.get_language()):
        yield


# --- (a) complete ------------------------------------------------------------------------------


def test_catalog_header_is_romanian(catalog):
    header, _entries = catalog
    fields = header_fields(header)
    assert "fuzzy" not in header.flags, "the catalog header is still marked fuzzy"
    assert fields.get("Language") == "ro"
    assert fields.get("Content-Type") == "text/plain; charset=UTF-8"
    assert fields.get("Plural-Forms") == ROMANIAN_PLURALS


def test_every_message_is_translated(catalog):
    header, entries = catalog
    assert entries, "the catalog has no messages"
    plural_forms = int(re.search(r"nplurals=(\d+)", header_fields(header)["Plural-Forms"]).group(1))
    fuzzy = [e.label for e in entries if "fuzzy" in e.flags]
    untranslated = [
        e.label
        for e in entries
        if not all(e.msgstr.get(i) for i in (range(plural_forms) if e.msgid_plural is not None else [0]))
    ]
    problems = [f"untranslated: {label}" for label in untranslated] + [f"fuzzy: {label}" for label in fuzzy]
    assert not problems, "translate these, and check and unmark the fuzzy ones:\n" + "\n".join(problems)


def test_translations_keep_placeholders(catalog):
    _header, entries = catalog
    wrong = []
    for entry in entries:
        sources = [entry.msgid] if entry.msgid_plural is None else [entry.msgid, entry.msgid_plural]
        expected = set().union(*(PLACEHOLDER.findall(text) for text in sources))
        for index, text in sorted(entry.msgstr.items()):
            found = set(PLACEHOLDER.findall(text))
            if found != expected:
                wrong.append(f"{entry.label} msgstr[{index}]: {sorted(found)} instead of {sorted(expected)}")
    assert not wrong, "placeholders changed in translation:\n" + "\n".join(wrong)


def test_romanian_letters_have_the_comma_below(catalog):
    _header, entries = catalog
    wrong = [
        f"{e.label}: {text!r}"
        for e in entries
        for text in e.msgstr.values()
        if any(letter in text for letter in CEDILLA)
    ]
    assert not wrong, "use ș and ț (comma below, U+0219/U+021B), not ş and ţ (cedilla):\n" + "\n".join(wrong)


# --- (b) current -------------------------------------------------------------------------------


def _copy_source(destination: Path) -> None:
    def ignore(folder: str, names: list[str]) -> set[str]:
        skipped = {n for n in names if n == "__pycache__"}
        if Path(folder) == ROOT:
            skipped |= NOT_SOURCE & set(names)
        return skipped

    shutil.copytree(ROOT, destination, ignore=ignore, symlinks=True)


def test_catalog_has_every_string_in_the_code(catalog, tmp_path):
    """Re-extract the strings from a scratch copy of the source tree (so the committed
    catalog is never touched) and compare: a string marked for translation but absent from
    the catalog would show in English to Romanian users."""
    absent = [tool for tool in GETTEXT_TOOLS if shutil.which(tool) is None]
    if absent:
        pytest.skip(
            f"GNU gettext is not installed ({', '.join(absent)} not on PATH), so the catalog "
            "cannot be re-extracted here; `apt-get install gettext` to run this check"
        )
    project = tmp_path / "project"
    _copy_source(project)
    extracted = subprocess.run(
        [sys.executable, "manage.py", *MAKEMESSAGES],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert extracted.returncode == 0, f"makemessages failed:\n{extracted.stdout}\n{extracted.stderr}"
    _header, fresh = read_po(project / CATALOG.relative_to(ROOT))
    _header, committed = catalog
    known = {e.key for e in committed}
    missing = [e for e in fresh if e.key not in known]
    assert not missing, (
        "strings in the code that locale/ro/LC_MESSAGES/django.po lacks; run `make messages`, "
        "translate them and commit django.po and django.mo:\n" + "\n".join(repr(e.msgid) for e in missing)
    )


# --- (c) compiled ------------------------------------------------------------------------------


def test_compiled_catalog_matches_the_source(catalog):
    """django.mo holds exactly the translations django.po has: compiled after the last edit."""
    assert COMPILED.exists(), f"{COMPILED.relative_to(ROOT)} is missing: run `make messages` and commit it"
    header, entries = catalog
    with COMPILED.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    expected: dict = {}
    for entry in entries:
        if "fuzzy" in entry.flags:
            continue  # msgfmt leaves fuzzy entries out
        msgid = entry.msgid if entry.msgctxt is None else f"{entry.msgctxt}\x04{entry.msgid}"
        if entry.msgid_plural is None:
            if entry.msgstr.get(0):
                expected[msgid] = entry.msgstr[0]
        elif all(entry.msgstr.values()):
            expected.update({(msgid, index): text for index, text in entry.msgstr.items()})
    actual = {key: value for key, value in compiled._catalog.items() if key != ""}
    stale = sorted(repr(k) for k in expected.keys() | actual.keys() if expected.get(k) != actual.get(k))
    assert not stale, "django.mo differs from django.po; run `make messages` (compilemessages):\n" + "\n".join(stale)
    assert compiled.info().get("plural-forms") == header_fields(header)["Plural-Forms"]


# --- (d) served --------------------------------------------------------------------------------


def _translation_of(catalog, msgid: str) -> str:
    _header, entries = catalog
    text = next(e.msgstr[0] for e in entries if e.msgid == msgid and e.msgctxt is None)
    assert text and text != msgid
    return text


def test_sign_in_page_follows_the_browser_language(client, db, catalog):
    footer_ro = _translation_of(catalog, FOOTER)
    page = client.get(reverse("account_login"), HTTP_ACCEPT_LANGUAGE="ro")
    assert page.status_code == 200
    content = page.content.decode()
    assert '<html lang="ro">' in content
    assert footer_ro in content
    assert FOOTER not in content

    english = client.get(reverse("account_login"), HTTP_ACCEPT_LANGUAGE="en")
    assert FOOTER in english.content.decode()


def test_language_switcher_changes_and_keeps_the_language(client, db, catalog):
    footer_ro = _translation_of(catalog, FOOTER)
    login = reverse("account_login")
    page = client.get(login)
    assert f'action="{reverse("set_language")}"' in page.content.decode(), "the switcher is not on the page"

    switched = client.post(reverse("set_language"), {"language": "ro", "next": login})
    assert switched.status_code == 302
    assert switched.url == login
    assert switched.cookies[settings.LANGUAGE_COOKIE_NAME].value == "ro"
    content = client.get(login).content.decode()  # no Accept-Language: the cookie decides
    assert '<html lang="ro">' in content
    assert footer_ro in content

    client.post(reverse("set_language"), {"language": "en", "next": login})
    content = client.get(login, HTTP_ACCEPT_LANGUAGE="ro").content.decode()  # the choice beats the browser
    assert '<html lang="en">' in content
    assert FOOTER in content


def test_romanian_plural_forms(catalog):
    """Romanian has three forms: 1 secundă; 0, 2 to 19, 101 to 119... secunde; 20 and up de secunde."""
    expected = {1: "1 secundă", 2: "2 secunde", 19: "19 secunde", 101: "101 secunde", 20: "20 de secunde"}
    expected |= {100: "100 de secunde", 120: "120 de secunde"}
    with translation.override("ro"):
        for n, words in expected.items():
            text = translation.ngettext(
                "Too many wrong codes. Wait %(seconds)d second, then try again.",
                "Too many wrong codes. Wait %(seconds)d seconds, then try again.",
                n,
            ) % {"seconds": n}
            assert f" {words}," in text, f"{n}: {text}"


# --- (d) what the product overrides: allauth's pages -------------------------------------------


def _allauth_catalog() -> dict[tuple[str | None, str], Entry]:
    import allauth

    path = Path(allauth.__file__).parent / "locale" / "ro" / "LC_MESSAGES" / "django.po"
    _header, entries = read_po(path)
    return {(e.msgctxt, e.msgid): e for e in entries}


def _overridden() -> list[tuple[str | None, str]]:
    from accounts.allauth_wording import ALLAUTH_STRINGS

    keys = []
    for item in ALLAUTH_STRINGS:
        if isinstance(item, str):
            keys.append((None, item))
        else:  # pgettext_lazy: the context and the message it was made with
            context, message = item._args
            keys.append((context, message))
    return keys


def test_overridden_allauth_strings_are_allauths_own():
    """Each listed string is a msgid of allauth's catalog, letter for letter: after an
    allauth upgrade that rewords one, this names it (the override would silently stop)."""
    known = _allauth_catalog()
    missing = [repr(key) for key in _overridden() if key not in known]
    assert not missing, "no longer allauth msgids (update accounts/allauth_wording.py):\n" + "\n".join(missing)


def test_allauth_pages_speak_the_products_romanian(catalog):
    """Each of allauth's strings that a user sees is in the product's catalog, translated
    (so with the product's diacritics and register, not allauth's "Conecteaza-te"), and the
    running site uses that translation."""
    _header, entries = catalog
    ours = {(e.msgctxt, e.msgid): e.msgstr.get(0, "") for e in entries}
    problems = []
    with translation.override("ro"):
        for context, message in _overridden():
            wanted = ours.get((context, message))
            if not wanted:
                problems.append(f"not translated in the product's catalog: {message!r}")
                continue
            shown = translation.pgettext(context, message) if context else translation.gettext(message)
            if shown != wanted:
                problems.append(f"shown as allauth's {shown!r}, not {wanted!r}")
    assert not problems, "run `make messages` and translate:\n" + "\n".join(problems)


def test_sign_in_page_in_romanian_has_no_allauth_wording(client, db):
    allauth_ro = _allauth_catalog()
    page = client.get(reverse("account_login"), HTTP_ACCEPT_LANGUAGE="ro").content.decode()
    for message in ("Sign In", "Remember Me", "Forgot your password?", "Send me a sign-in code"):
        theirs = allauth_ro[(None, message)].msgstr.get(0, "")
        with translation.override("ro"):
            ours = translation.gettext(message)
        if theirs and theirs != ours:
            assert theirs not in page, f"allauth's {theirs!r} on the Romanian sign-in page"
