"""Reading the registry for one data subject: where their data is, table by table.

`holdings` is the one walk every reader shares: the data map, access packages and
portability exports (access.py), erasure (erasure.py) (GDPR Art. 15, 17, 20). It lives on
the registry (Registry.holdings); this module keeps the name the data map imports."""

from __future__ import annotations

from logicnet.personal_data.registry import Holding, registry

__all__ = ["Holding", "holdings"]


def holdings(kind: str, subject) -> list[Holding]:
    """Every (model, path to the subject) with the personal fields it holds about `subject`.
    Run it where the rows are visible: a contact inside its organization's tenant context,
    a user (whose rows span organizations) under the platform bypass."""
    return registry.holdings(kind, subject)
