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
