"""Real-world files from ../shared/fixtures/, next to the repository: CI always has that
folder, a fresh clone on its own does not, and a test that needs one then skips saying so."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED_FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures"


def shared_fixture(relative: str) -> Path:
    path = SHARED_FIXTURES / relative
    if not path.exists():
        pytest.skip(f"{relative} is not in {SHARED_FIXTURES}: the shared fixtures are absent from this clone")
    return path


def naughty_strings() -> list[str]:
    """The Big List of Naughty Strings, without its comments and blank lines."""
    text = shared_fixture("edge_cases/blns.txt").read_text(encoding="utf-8", errors="replace")
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
