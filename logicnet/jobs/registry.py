"""Job kinds and the services that do their work.

A handler is `handler(job, report) -> dict`: `report(done, total)` saves progress (and
renews the lease); the returned dict becomes `job.result`. Handlers must be idempotent:
a job whose worker died is run again from the start. `report` commits at once even inside a
transaction the handler opened (it writes through a second connection then), so a handler
may wrap each batch in a transaction; it must not write its own job row.
"""

from __future__ import annotations

from collections.abc import Callable

Handler = Callable[..., dict]
_handlers: dict[str, Handler] = {}


def job_handler(kind: str) -> Callable[[Handler], Handler]:
    def register(func: Handler) -> Handler:
        _handlers[kind] = func
        return func

    return register


def handler_for(kind: str) -> Handler:
    return _handlers[kind]
