# ruff: noqa: RUF001 - the fixtures hold Greek, Japanese and Cyrillic names on purpose
"""Conformance of the import readers and mappings with real exported files.

Every file under ../shared/fixtures/contacts and ../shared/fixtures/crm gives the right names,
emails and phones (non-ASCII included); every file under ../shared/fixtures/edge_cases gives
a correct read or a clear error for the file or the row. The fixtures are read in place (see
tests/shared_fixtures.py); the tests skip, saying so, when that folder is absent.
"""

from __future__ import annotations

import datetime

import pytest

from imports import mapping, readers
from tests.shared_fixtures import SHARED_FIXTURES, shared_fixture


def read(relative: str, columns: list[mapping.Column] | None = None):
    path = shared_fixture(relative)
    opener = readers.path_opener(path)
    info = readers.inspect(opener, path.name, size=path.stat().st_size)
    if info.kind == "vcard":
        return info, list(readers.vcards(info, opener))
    if columns is None:
        columns = mapping.auto_map(info.headers, kind=mapping.kind_for(info.headers))
    kind = mapping.kind_for(info.headers)
    return info, list(mapping.records(readers.rows(info, opener), columns, kind=kind))


def people(records) -> list[tuple[str, str, list[str], list[str]]]:
    return [(r.first_name, r.last_name, [e.value for e in r.emails], [p.value for p in r.phones]) for r in records]


# (file, expected export, [(first, last, emails, phones) per record])
CONTACT_FILES = [
    (
        "contacts/email_only_csv__roundcube_email.csv",
        "",
        [("", "", [f"test{i}@domain.tld"], []) for i in range(1, 5)],
    ),
    (
        "contacts/generic_csv_bom_all_fields__roundcube_all.csv",
        "outlook",
        [
            (
                "First Name Middle Name",
                "Last Name",
                ["home@example.com", "work@example.com", "other@example.com"],
                ["100", "200", "300", "400", "500", "600", "900", "111", "222", "333", "444"],
            )
        ],
    ),
    (
        "contacts/google_csv_legacy__roundcube_gmail.csv",
        "google_legacy",
        [
            (
                "Firstname Middle",
                "Lastname",
                ["home@aaa.pl", "work@email.pl", "unknown@email.com", "other@email.com"],
                ["pager", "mainphone", "homephone", "homefax", "mobile", "workphone", "workfax"],
            )
        ],
    ),
    (
        "contacts/google_csv_newformat_subset__rolomind_google.csv",
        "google",
        [
            ("John", "Doe", ["john@example.com"], ["+1-555-0123"]),
            ("Jane", "Smith", ["jane@example.com"], ["+1-555-0124"]),
            ("Bob", "Wilson", ["bob@startup.com"], []),
            ("Alice", "Brown", ["alice.brown@email.com"], ["+1-555-0125"]),
        ],
    ),
    (
        "contacts/linkedin_connections_csv__rolomind_linkedin.csv",
        "linkedin",
        [
            ("John", "Doe", ["john@example.com"], []),
            ("Jane", "Smith", ["jane@example.com"], []),
            ("Bob", "Wilson", [], []),
            ("Alice", "Brown", ["alice.brown@email.com"], []),
            ("Charlie", "Davis", ["charlie@startup.com"], []),
        ],
    ),
    (
        "contacts/outlook_csv_email_columns__roundcube_outlook.csv",
        "outlook",
        [("", "", ["test1@domain.tld", "test2@domain.tld", "test3@domain.tld"], [])],
    ),
    (
        "contacts/outlook_csv_japanese_desktop_export__ox_jpcontact.csv",
        "outlook_ja",
        [("Max", "Mustermann", ["max.mustermann@invalid.domain.ox"], [])],
    ),
    (
        "contacts/thunderbird_csv__roundcube_tb_plain.csv",
        "thunderbird",
        [
            (
                "Firstname",
                "Lastname",
                ["test@domain.tld", "next@domain.tld"],
                ["phone work", "phone home", "pager", "mobile"],
            )
        ],
    ),
    (
        "contacts/thunderbird_csv_basic__tb_import_basic_csv_addressbook.csv",
        "thunderbird",
        [("John", "Doe", ["john@doe.invalid"], []), ("Jane", "Doe", ["jane@doe.invalid"], [])],
    ),
    ("contacts/thunderbird_csv_quote__tb_import_quote.csv", "thunderbird", [("", "", [], ["(800) 000-0000"])]),
    (
        "contacts/thunderbird_csv_semicolon__tb_import_csv_semicolon.csv",
        "thunderbird",
        [("John", "Doe", ["john@doe.invalid"], []), ("Jane", "Doe", ["jane@doe.invalid"], [])],
    ),
    (
        "contacts/thunderbird_csv_shiftjis__tb_import_shiftjis_addressbook.csv",
        "thunderbird",
        [("権兵衛", "名無し", ["名無しの権兵衛@host.invalid"], [])],
    ),
    (
        "contacts/thunderbird_csv_utf16le_bom__tb_import_utf16_addressbook.csv",
        "thunderbird",
        [("John", "Doe", ["johndoe@host.invalid"], [])],
    ),
    (
        "contacts/thunderbird_export_csv__tb_addrbook_export.csv",
        "thunderbird",
        [("contact", "one", ["contact1@invalid"], []), ("contact", "two", ["contact2@invalid"], [])],
    ),
    (
        "crm/salesforce_sfdx_tree_export_contacts__lwc-recipes_Contacts.json",
        "salesforce_tree",
        [
            ("Amy", "Taylor", ["amy@demo.net"], ["4152568563"]),
            ("Michael", "Jones", ["michael@demo.net"], ["4158526633"]),
            ("Jennifer", "Wu", ["jennifer@demo.net"], ["4158521463"]),
            ("Anup", "Gupta", ["anup@demo.net"], ["4158526398"]),
            ("Caroline", "Kingsley", ["caroline@demo.net"], ["4158753654"]),
            ("Jonathan", "Bradley", ["jonathan@demo.net"], ["4158885522"]),
        ],
    ),
]

JOHN_DOE_IBM = ("John Richter James", "Doe", ["john.doe@ibm.com"])

VCARD_FILES = [
    (
        "contacts/vcard21_android_qp_multi__ezvcard_John_Doe_ANDROID.vcf",
        [
            ("", "", ["john.doe@company.com"], []),
            ("", "", ["jane.doe@company.com"], []),
            ("", "Ñ Ñ Ñ Ñ", [], ["123456789"]),
            ("", "Ñ Ñ Ñ Ñ Ñ Ñ Ñ Ñ Ñ Ñ Ñ", [], ["123456", "234567", "3456789", "45678901"]),
            ("Ñ Ñ Ñ", "Ñ Ñ", ["ÑÑÑÑÑÑÑÑÑÑÑÑÑÑ", "bob@company.com"], ["123456"]),
            ("", "ÑÑÑÑ", ["henry@company.com"], ["55556666"]),
        ],
    ),
    (
        "contacts/vcard21_bat_qp_8bit_no_charset__roundcube_thebat.vcf",
        [("Piotr", "Iksiński", ["piotr.iksinski@somedomain.com"], [])],
    ),
    ("contacts/vcard21_blackberry_photo__ezvcard_John_Doe_BLACK_BERRY.vcf", [("john", "Doe", [], ["+96123456789"])]),
    ("contacts/vcard21_netscape_lowercase__kcontacts_vcard3.vcf", [("ian", "geiser", ["geiseri@yahoo.com"], [])]),
    ("contacts/vcard21_outlook2003__ezvcard_outlook-2003.vcf", [("John", "Doe", ["jdoe@hotmail.com"], [])]),
    (
        "contacts/vcard21_outlook2007_qp_key__ezvcard_outlook-2007.vcf",
        [
            (
                "Michael",
                "Angstadt",
                ["mike.angstadt@gmail.com"],
                ["(111) 555-1111", "(111) 555-2222", "(111) 555-4444", "(111) 555-3333"],
            )
        ],
    ),
    (
        "contacts/vcard21_outlook__ezvcard_John_Doe_MS_OUTLOOK.vcf",
        [("John Richter James", "Doe", ["john.doe@ibm.cm"], ["(905) 555-1234", "(905) 666-1234"])],
    ),
    (
        "contacts/vcard21_qp_softbreak_multi__kcontacts_vcard10.vcf",
        [
            ("", "", [], []),
            ("Broken", "", [], []),
            ("Broken", "", [], []),
            ("Surname", "Name", [], []),
            ("Second", "Doctor", [], []),
        ],
    ),
    ("contacts/vcard30_apple_photo_nonascii__roundcube_apple.vcf", [("Apple Computer", "AG", [], [])]),
    ("contacts/vcard30_crcrlf__tb_import_dos_vcard_addressbook.vcf", [("Name", "Surname", ["example@gmail.com"], [])]),
    (
        "contacts/vcard30_evolution_folded__ezvcard_John_Doe_EVOLUTION.vcf",
        [("John Richter, James", "Doe", ["john.doe@ibm.com"], ["905-666-1234", "905-555-1234"])],
    ),
    (
        "contacts/vcard30_gmail_folded__ezvcard_John_Doe_GMAIL.vcf",
        [("John Richter, James", "Doe", ["john.doe@ibm.com"], ["905-555-1234", "905-666-1234"])],
    ),
    (
        "contacts/vcard30_gmail_many_emails_phones__ezvcard_gmail-single2.vcf",
        [
            (
                "VCard",
                "Test",
                [
                    "email@example.com",
                    "homeemail@example.com",
                    "workemail@example.com",
                    "otheremail@example.com",
                    "customcategory@example.com",
                ],
                None,
            )
        ],
    ),
    (
        "contacts/vcard30_iphone_photo_crcrlf__ezvcard_John_Doe_IPHONE.vcf",
        [
            (
                *JOHN_DOE_IBM,
                [
                    "905-555-1234",
                    "905-666-1234",
                    "905-777-1234",
                    "905-888-1234",
                    "905-999-1234",
                    "905-111-1234",
                    "905-222-1234",
                ],
            )
        ],
    ),
    (
        "contacts/vcard30_lotus_notes__ezvcard_John_Doe_LOTUS_NOTES.vcf",
        [
            (
                "John Johny",
                "Doe",
                ["john.doe@ibm.com", "billy_bob@gmail.com"],
                ["+1 (212) 204-34456", "00-1-212-555-7777"],
            )
        ],
    ),
    (
        "contacts/vcard30_mac_addressbook__ezvcard_John_Doe_MAC_ADDRESS_BOOK.vcf",
        [("John Richter,James", "Doe", ["john.doe@ibm.com"], None)],
    ),
    (
        "contacts/vcard30_missing_n_fn__radicale_broken-vcards.vcf",
        [("", "", ["test-misses-N-or-FN@example.com"], []), ("", "", ["test-misses-N-or-FN@example1.com"], [])],
    ),
    (
        "contacts/vcard30_multiscript_folded__kcontacts_vcard9.vcf",
        [("", "123ㄓㄕㄖbcdeαβγδαβγδαβγδαβγδαβγδαβγδαβㄤㄓㄕㄖ", [], [])],
    ),
    ("contacts/vcard30_photo_binary_jpeg__tb_addrbook_v3-binary-jpeg.vcf", [("Binary", "JPEG", [], [])]),
    ("contacts/vcard30_photo_umlauts__roundcube_photo.vcf", [("Jörg", "Müller", [], [])]),
    (
        "contacts/vcard30_rfc2426_example__ezvcard_rfc2426-example.vcf",
        [
            (
                "Frank",
                "Dawson",
                ["Frank_Dawson@Lotus.com", "fdawson@earthlink.net"],
                ["+1-919-676-9515", "+1-919-676-9564"],
            ),
            ("Tim", "Howes", ["howes@netscape.com"], ["+1-415-937-3419", "+1-415-528-4164"]),
        ],
    ),
    (
        "contacts/vcard30_thunderbird_ext_mixed_eol_photo__ezvcard_thunderbird-MoreFunctionsForAddressBook-extension.vcf",
        [
            (
                "John",
                "Doe",
                [
                    "doe.john@hotmail.com",
                    "additional-email@company.com",
                    "additional-email1@company.com",
                    "additional-email2@company.com",
                    "additional-email3@company.com",
                ],
                None,
            )
        ],
    ),
    ("contacts/vcard30_two_photos_png__kcontacts_vcard12.vcf", [("Good", "Looking", ["goodlooking@example.com"], [])]),
    ("contacts/vcard30_utf16_no_bom__roundcube_utf-16_sample.vcf", [("Ǽgean", "ĽdaMonté", [], [])]),
    (
        "contacts/vcard40_full__vobject_vcard40_full.vcf",
        [
            (
                "John Quinlan",
                "Public",
                ["johnny@personal.example.org", "john.public@example.com"],
                ["+1-555-555-5555", "+1-555-123-4567"],
            )
        ],
    ),
    (
        "contacts/vcard40_full_multi_email__ezvcard_fullcontact.vcf",
        [
            (
                "FirstName MiddleName",
                "LastName",
                [
                    "home@example.com",
                    "work@example.com",
                    "school@example.com",
                    "other@example.com",
                    "custom@example.com",
                ],
                None,
            )
        ],
    ),
    ("contacts/vcard40_multilang_japanese__vobject_vcard40_multilang.vcf", [("Taro", "Yamada", [], [])]),
    ("contacts/vcard40_photo_data_uri__tb_addrbook_v4-uri-jpeg.vcf", [("URI", "JPEG", [], [])]),
    (
        "contacts/vcard40_rfc6350_example__ezvcard_rfc6350-example.vcf",
        [("Simon", "Perreault", ["simon.perreault@viagenie.ca"], ["+1-418-656-9254", "+1-418-262-6501"])],
    ),
    (
        "contacts/vcard40_tb_export__tb_addrbook_export.vcf",
        [("contact", "one", ["contact1@invalid"], []), ("contact", "two", ["contact2@invalid"], [])],
    ),
    (
        "contacts/vcard_noversion_qp_label__kcontacts_vcard4.vcf",
        [("", "", ["hello@ximian.com"], ["(617) 236-0442", "(617) 236-8630"])],
    ),
]


@pytest.mark.parametrize(("relative", "export", "expected"), CONTACT_FILES, ids=[c[0] for c in CONTACT_FILES])
def test_tabular_contact_files(relative, export, expected):
    info, records = read(relative)
    assert mapping.detect_export(info.headers)[0] == export
    assert people(records) == expected
    assert all(not r.problems for r in records)


@pytest.mark.parametrize(("relative", "expected"), VCARD_FILES, ids=[c[0] for c in VCARD_FILES])
def test_vcard_files(relative, expected):
    _info, records = read(relative)
    got = people(records)
    assert len(got) == len(expected)
    for (first, last, emails, phones), want in zip(got, expected, strict=True):
        assert (first, last, emails) == want[:3]
        if want[3] is not None:
            assert phones == want[3]


def test_every_contact_and_crm_fixture_is_covered():
    if not SHARED_FIXTURES.is_dir():
        pytest.skip(f"{SHARED_FIXTURES} is absent: the shared fixtures are not next to this clone")
    covered = {c[0] for c in CONTACT_FILES} | {c[0] for c in VCARD_FILES} | set(OTHER_FILES)
    present = {
        f"{folder}/{p.name}"
        for folder in ("contacts", "crm")
        for p in (SHARED_FIXTURES / folder).iterdir()
        if p.is_file()
    }
    assert present - covered == set()


OTHER_FILES = [
    "crm/salesforce_report_export_bom__lwc-recipes_Accounts-Contacts.csv",
    "crm/salesforce_sfdx_tree_export_accounts__lwc-recipes_Accounts.json",
    "contacts/thunderbird_csv_tab_comma_mixed__tb_import_tab_comma_mixed.csv",
]


def test_salesforce_report_people_and_account_only_rows():
    info, records = read("crm/salesforce_report_export_bom__lwc-recipes_Accounts-Contacts.csv")
    assert mapping.detect_export(info.headers)[0] == "salesforce_report"
    with_people = [r for r in records if not r.problems]
    assert people(with_people)[:3] == [
        ("Amy", "Taylor", ["amy@demo.net"], ["4152568563"]),
        ("Jennifer", "Wu", ["jennifer@demo.net"], ["4158521463"]),
        ("Caroline", "Kingsley", ["caroline@demo.net"], ["4158753654"]),
    ]
    assert [r.company for r in with_people] == ["Alpha Dynamics"] * 3 + ["Madison Investments"] * 3
    assert [r.job_title for r in with_people][:2] == ["VP of Engineering", "CEO"]
    # the accounts without a contact are not made into nameless people: each says why
    account_only = [r for r in records if r.problems]
    assert [r.company for r in account_only][:2] == ["Burlington Textiles", "GenePoint"]
    assert all("only a company" in r.problems[0] for r in account_only)
    companies = list(
        mapping.records(
            readers.rows(
                info,
                readers.path_opener(
                    shared_fixture("crm/salesforce_report_export_bom__lwc-recipes_Accounts-Contacts.csv")
                ),
            ),
            [mapping.Column(0, "name"), mapping.Column(2, "phone")],
            kind="companies",
        )
    )
    assert (companies[0].name, companies[0].phone) == ("Alpha Dynamics", "3362227000")


def test_salesforce_accounts_json_is_a_company_file():
    info, records = read("crm/salesforce_sfdx_tree_export_accounts__lwc-recipes_Accounts.json")
    assert mapping.kind_for(info.headers) == "companies"
    assert [(r.name, r.phone) for r in records[:3]] == [
        ("Alpha Dynamics", "3362227000"),
        ("Madison Investments", "7227003362"),
        ("Burlington Textiles", "6179658855"),
    ]
    assert len(records) == 10 and all(not r.problems for r in records)


def test_headerless_file_with_mixed_delimiters_maps_by_hand():
    columns = [mapping.Column(0, "first_name"), mapping.Column(1, "last_name"), mapping.Column(4, "email")]
    info, records = read("contacts/thunderbird_csv_tab_comma_mixed__tb_import_tab_comma_mixed.csv", columns)
    assert not info.has_header
    assert people(records) == [(str(i), str(i), [f"{i}@host.invalid"], []) for i in range(1, 5)]


def test_google_details_labels_tags_birthday_and_addresses():
    _info, [record] = read("contacts/google_csv_legacy__roundcube_gmail.csv")
    assert [(e.value, e.label) for e in record.emails][:2] == [("home@aaa.pl", "home"), ("work@email.pl", "work")]
    assert record.tags == ["Test"]
    assert record.date_of_birth == datetime.date(1975, 12, 12)
    assert record.notes == 'note"note'
    assert record.company == "company" and record.job_title == "jobtitle"
    home = record.addresses[0]
    assert (home.label, home.street, home.city, home.postal_code, home.country) == (
        "home",
        "home_street",
        "home_city",
        "home_zip",
        "home_country",
    )


def test_multi_value_cells_become_several_emails_and_phones():
    row = readers.Row(line=2, cells=["Ana", "a@x.ro ::: b@y.ro", "Work ::: Home", "+40 721 000 000 ::: 0722 000 000"])
    columns = [
        mapping.Column(0, "first_name"),
        mapping.Column(1, "email", group="email1"),
        mapping.Column(2, "email_label", group="email1"),
        mapping.Column(3, "phone"),
    ]
    record = mapping.to_contact(row, columns)
    assert [(e.value, e.label) for e in record.emails] == [("a@x.ro", "work"), ("b@y.ro", "home")]
    assert [p.value for p in record.phones] == ["+40 721 000 000", "0722 000 000"]


def test_vcard_photos_are_dropped_with_a_note_and_quoted_printable_notes_decoded():
    _info, [record] = read("contacts/vcard21_outlook2003__ezvcard_outlook-2003.vcf")
    assert record.notes.startswith("This is the note field!!\r\nSecond line") or record.notes.startswith(
        "This is the note field!!\nSecond line"
    )
    assert record.company == "Company, The"
    _info, [record] = read("contacts/vcard30_photo_umlauts__roundcube_photo.vcf")
    assert "The photo was not imported." in record.notes_for_user


def test_romanian_windows_1250_and_utf8_csv(tmp_path):
    text = "Prenume;Nume;Email\nȘtefan;Țăranu;stefan@exemplu.ro\nIoana;Mureșan;ioana@exemplu.ro\n"
    for encoding, data in (
        ("cp1250", text.replace("Ș", "Ş").replace("Ț", "Ţ").replace("ș", "ş").encode("cp1250")),
        ("utf-8", text.encode("utf-8")),
        ("utf-16-le", b"\xff\xfe" + text.encode("utf-16-le")),
    ):
        path = tmp_path / f"{encoding}.csv"
        path.write_bytes(data)
        info = readers.inspect(readers.path_opener(path), path.name)
        assert info.delimiter == ";"
        records = list(mapping.records(readers.rows(info, readers.path_opener(path)), mapping.auto_map(info.headers)))
        assert [(r.first_name[1:], r.last_name) for r in records][1] == (
            "oana",
            "Mureșan" if encoding != "cp1250" else "Mureşan",
        )
        assert records[0].last_name in ("Țăranu", "Ţăranu")
        assert records[0].emails[0].value == "stefan@exemplu.ro"


# --- edge cases: a correct read, or a clear error ---------------------------------------------

# file -> (headers, first data row) for a correct read, or the start of the file's error
EDGE_CASES = {
    "bom_utf16be__dataloader_csvtext_BOM_UTF16BE.csv": (
        ["column1", "column2", "column3"],
        ["row1-1", "row1-2", "row1-3"],
    ),
    "bom_utf16le__dataloader_csvtext_BOM_UTF16LE.csv": (
        ["column1", "column2", "column3"],
        ["row1-1", "row1-2", "row1-3"],
    ),
    "bom_utf32le__dataloader_csvtext_BOM_UTF32LE.csv": "The file starts with a UTF-16-BE byte-order mark but its text is not",
    "bom_utf8__csvkit_test_utf8_bom.csv": (["foo", "bar", "baz"], ["1", "2", "3"]),
    "bom_utf8_quoted_header__dataloader_csvtext_BOM_UTF8.csv": (
        ["column1", "column2", "column3"],
        ["row1-1", "row1-2", "row1-3"],
    ),
    "comma_in_quotes__csv-spectrum.csv": (
        ["first", "last", "address", "city", "zip"],
        ["John", "Doe", "120 any st.", "Anytown, WW", "08123"],
    ),
    "cr_line_endings__csvlint_cr-line-endings.csv": (["Foo", "Bar", "Baz"], ["Biff", "Baff", "Boff"]),
    "cr_only_newlines_quoted_cr__csvkit_mac_newlines.csv": (["a", "b", "c"], ["1", "2", "3"]),
    "duplicate_headers__tap-s3-csv.csv": (
        [
            "a0",
            "b0",
            "c0",
            "a0 (2)",
            "d0",
            "b0 (2)",
            "e0",
            "f0",
            "b0 (3)",
            "b0 (4)",
            "c0 (2)",
            "Column 12",
            "Column 13",
            "Column 14",
        ],
        ["a1", "b1", "c1", "a11", "d1", "b11", "e1", "f1", "b12", "b13", "c11", "", "", ""],
    ),
    "escaped_quotes__dataloader_csvEscapedQuotes.csv": (["column1", "column2"], ['"The Best" Account', "bla"]),
    "header_with_control_whitespace__csvkit_test_header_newline.csv": (["start end", "b", "c"], ["d", "e", "f"]),
    "invalid_utf8_latin1_bank_export__csvlint_invalid-byte-sequence.csv": (
        ["Data", "Dependencia Origem", "Histórico", "Data do Balancete", "Número do documento", "Valor", "Column 7"],
        ["10/31/2012", "", "Saldo Anterior", "", "0", "100.00", ""],
    ),
    "json_in_field__csv-spectrum.csv": (["key", "val"], ["1", '{"type": "Point", "coordinates": [102.0, 0.5]}']),
    "latin1__csvkit_test_latin1.csv": (["a", "b", "c"], ["1", "2", "3"]),
    "mixed_line_endings_quoted__csvlint_inconsistent-line-endings.csv": (
        ["Foo", "Bsr", "Baz"],
        ["Biff", "Baff", "Boff"],
    ),
    "mixed_line_endings_unquoted__csvlint_inconsistent-line-endings-unquoted.csv": (
        ["Foo", "Bsr", "Baz"],
        ["Biff", "Baff", "Boff"],
    ),
    "null_byte__csvkit_null_byte.csv": (["a", "b", "c"], ["", "2", "3"]),
    "problematic_header_chars__tap-s3-csv.csv": (
        ["has space", "has-dash", "has_underscore", "has,comma", "has'tick", 'has"quote'],
        ["0", "1", "2", "3", "4", "5"],
    ),
    "quotes_and_newlines__csv-spectrum.csv": (["a", "b"], ["1", 'ha \n"ha" \nha']),
    "ragged_rows__csvkit_bad.csv": (["column_a", "column_b", "column_c", "Column 4"], ["1", "27", "", "I'm too long!"]),
    "title_row_before_header__csvlint_title-row.csv": (["Foo", "Bsr", "Baz"], ["Biff", "Baff", "Boff"]),
    "utf16le_bom__csvkit_test_utf16_little.csv": (["a", "b", "c"], ["1", "2", "3"]),
    "huge_field_131074_chars__tap-s3-csv_max_size.csv": (["id", "name"], ["1", "a" * 131074]),
    "blns.json": "The JSON file is not a list of records",
    "csv_injection_README__PayloadsAllTheThings.md": "Files of this type cannot be imported.",
    "blns.txt": None,  # read as one text column per line: no crash, no loss
    "csv_injection_payloads__payloadbox_csv-payload.txt": None,
}


@pytest.mark.parametrize("name", sorted(EDGE_CASES))
def test_edge_case_files(name):
    path = shared_fixture(f"edge_cases/{name}")
    opener = readers.path_opener(path)
    expected = EDGE_CASES[name]
    if isinstance(expected, str):
        with pytest.raises(readers.FileProblem) as problem:
            readers.inspect(opener, path.name)
        assert str(problem.value).startswith(expected)
        return
    info = readers.inspect(opener, path.name)
    rows = list(readers.rows(info, opener))
    assert len(rows) == info.rows
    if expected is None:
        assert rows
        return
    headers, first = expected
    assert info.headers == headers
    assert rows[0].cells == first


def test_edge_case_details():
    def rows_of(name):
        path = shared_fixture(f"edge_cases/{name}")
        info = readers.inspect(readers.path_opener(path), path.name)
        return info, list(readers.rows(info, readers.path_opener(path)))

    info, rows = rows_of("latin1__csvkit_test_latin1.csv")
    assert rows[1].cells == ["4", "5", "©"]
    info, rows = rows_of("utf16le_bom__csvkit_test_utf16_little.csv")
    assert rows[1].cells == ["4", "5", "ʤ"]
    info, rows = rows_of("bom_utf8__csvkit_test_utf8_bom.csv")
    assert rows[1].cells == ["4", "5", "ʤ"]
    info, rows = rows_of("null_byte__csvkit_null_byte.csv")
    assert rows[0].notes == ["A NUL character was removed from this row."]
    info, rows = rows_of("title_row_before_header__csvlint_title-row.csv")
    assert info.notes and [r.line for r in rows] == [3, 4]
    info, rows = rows_of("cr_only_newlines_quoted_cr__csvkit_mac_newlines.csv")
    assert rows[1].cells == ["Once upon\ra time", "5", "6"]
    info, rows = rows_of("invalid_utf8_latin1_bank_export__csvlint_invalid-byte-sequence.csv")
    assert rows[1].cells[2].startswith("Transferência on line")
    info, rows = rows_of("ragged_rows__csvkit_bad.csv")
    assert rows[1].cells == ["", "I'm too short!", "", ""]


def test_linkedin_notes_above_the_header_are_skipped(tmp_path):
    path = tmp_path / "Connections.csv"
    path.write_text(
        "Notes:\n"
        '"When exporting your connection data, you may notice that some of the email addresses are missing."\n'
        "\n"
        "First Name,Last Name,URL,Email Address,Company,Position,Connected On\n"
        "Ioana,Mureșan,https://www.linkedin.com/in/im,ioana@exemplu.ro,Alfa SRL,CEO,03 May 2026\n"
        "Dan,Pop,https://www.linkedin.com/in/dp,,Beta SRL,CTO,04 May 2026\n",
        encoding="utf-8",
    )
    info, records = read_path(path)
    assert info.skip_rows == 2 and info.rows == 2
    assert mapping.detect_export(info.headers)[0] == "linkedin"
    assert people(records) == [("Ioana", "Mureșan", ["ioana@exemplu.ro"], []), ("Dan", "Pop", [], [])]
    assert [r.line for r in records] == [5, 6]  # as a spreadsheet numbers them, the blank row counted


def test_file_level_errors(tmp_path):
    cases = {
        "empty.csv": (b"", "The file is empty."),
        "blank.csv": (b"\r\n\r\n", "The file is empty."),
        "photo.csv": (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "This is a PNG file"),
        "old.xls": (b"\xd0\xcf\x11\xe0" + b"\x00" * 100, "This is an Excel 97-2003 (.xls) file"),
        "fake.xlsx": (b"a,b\n1,2\n", "This file is named .xlsx but is not an Excel workbook."),
        "data.bin": (b"a,b\n", "Files of this type cannot be imported."),
        "noise.csv": (bytes(range(1, 32)) * 50, "The file looks binary"),
        "cards.vcf": (b"hello\n", "No contact card"),
    }
    for name, (data, message) in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(readers.FileProblem) as problem:
            readers.inspect(readers.path_opener(path), name)
        assert str(problem.value).startswith(message), name
    with pytest.raises(readers.FileProblem, match="larger than 200 MB"):
        readers.inspect(readers.path_opener(path), "big.csv", size=readers.MAX_BYTES + 1)


def test_too_many_rows(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "MAX_ROWS", 3)
    path = tmp_path / "many.csv"
    path.write_text("email\n" + "".join(f"p{i}@x.ro\n" for i in range(5)))
    with pytest.raises(readers.FileProblem, match="more than 3 rows"):
        readers.inspect(readers.path_opener(path), "many.csv")


def test_encoding_that_changes_halfway_is_a_file_error(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"name,email\n" + b"Ana,ana@x.ro\n" * 30000 + "Ştefan,s@x.ro\n".encode("cp1250"))
    with pytest.raises(readers.FileProblem, match="not valid utf-8 text"):
        readers.inspect(readers.path_opener(path), "mixed.csv")


def test_xlsx(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["First Name", "Last Name", "E-mail Address", "Birthday", "Mobile Phone"])
    sheet.append(["Ștefan", "Țăranu", "stefan@exemplu.ro", datetime.datetime(1980, 5, 17), 40721234567])  # noqa: DTZ001 - a spreadsheet date
    sheet.append([None, None, None, None, None])
    sheet.append(["Ana", "Pop", "ana@exemplu.ro", None, None])
    path = tmp_path / "contacts.xlsx"
    workbook.save(path)
    _info, records = read_path(path)
    assert people(records) == [
        ("Ștefan", "Țăranu", ["stefan@exemplu.ro"], ["40721234567"]),
        ("Ana", "Pop", ["ana@exemplu.ro"], []),
    ]
    assert records[0].date_of_birth == datetime.date(1980, 5, 17)
    assert [r.line for r in records] == [2, 4]  # the sheet's row numbers


def read_path(path):
    opener = readers.path_opener(path)
    info = readers.inspect(opener, path.name)
    return info, list(mapping.records(readers.rows(info, opener), mapping.auto_map(info.headers)))
