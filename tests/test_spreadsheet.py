"""One rule for every cell the product writes to a file people open in a spreadsheet."""

import pytest

from logicnet.spreadsheet import safe_cell


@pytest.mark.parametrize(
    "typed",
    [
        "=1+1",
        "+40 721",
        "-2",
        "@SUM(A1)",
        "\t=1",
        "\r=1",
        "\n=1",
        "\uff1dHYPERLINK(1)",
        "\uff0b1",
        "\uff0d1",
        "\uff20A1",
    ],
)
def test_a_cell_a_spreadsheet_would_run_is_written_as_text(typed):
    assert safe_cell(typed) == "'" + typed


@pytest.mark.parametrize("typed", ["", "Ana", "ana@exemplu.ro", "0721 000 000", "Ștefan = boss", "1=1"])
def test_any_other_cell_is_written_as_it_is(typed):
    assert safe_cell(typed) == typed


def test_an_xlsx_cell_keeps_its_type_and_text_stays_safe():
    import datetime
    from decimal import Decimal

    from logicnet.spreadsheet import local_timestamp, xlsx_cell

    assert xlsx_cell("=1+1") == "'=1+1"
    assert xlsx_cell(42) == 42 and xlsx_cell(Decimal("12.50")) == Decimal("12.50") and xlsx_cell(1.5) == 1.5
    assert xlsx_cell(7195338560402690) == "7195338560402690"  # past Excel's 15 digits: text
    assert xlsx_cell(True) is True and xlsx_cell(None) is None
    assert xlsx_cell(datetime.date(2026, 3, 5)) == datetime.date(2026, 3, 5)
    aware = datetime.datetime(2026, 3, 5, 10, 0, tzinfo=datetime.UTC)
    assert xlsx_cell(aware).tzinfo is None  # Excel has no time zones: the local wall time
    assert local_timestamp("2026-03-05 14:30:00") == datetime.datetime(2026, 3, 5, 14, 30)  # noqa: DTZ001
    assert local_timestamp("") is None
