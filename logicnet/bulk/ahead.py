"""Preparing the next batch of a bulk write while the current one is in the database.

    for batch, prepared in prepared_ahead(preparer, batches):
        write(batch, prepared=prepared)   # meanwhile a thread prepares the next batch

An import spends about half of its time in Python work that needs no database (reading
values, normalising emails and phones, blind-index digests, AES-GCM) and half waiting for
PostgreSQL; the thread does the first kind for batch N+1 while the caller waits on the
database for batch N (psycopg releases the GIL while it waits), so the two overlap on two
cores instead of taking turns.

- `batches` is read in the caller's thread (reading may need the tenant context and the
  database), one batch ahead; an error reading batch N+1 is raised after batch N was
  handed over, as it would be without the thread.
- `prepare` runs in the worker thread and must not touch a database connection (Django's
  are per thread: the worker's would be outside the tenant context and the caller's
  transaction). It runs in the caller's language, so the row errors it writes read the same.
- batches are prepared and handed over in order; an error preparing one is raised when the
  caller reaches it.
"""

from __future__ import annotations

import contextlib
import gc
import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from django.db import connections
from django.utils import translation

Batch = TypeVar("Batch")
Prepared = TypeVar("Prepared")
_END = object()
SWITCH_INTERVAL = 0.0005  # seconds
GC_THRESHOLD = 50_000  # allocations between collections of the youngest generation


class PreparerUsedDatabase(RuntimeError):
    """A preparer touched the database from the preparing thread."""


@contextlib.contextmanager
def fewer_collections(threshold: int = GC_THRESHOLD) -> Iterator[None]:
    """Python's cyclic garbage collector less often while a bulk write runs: a batch makes
    hundreds of thousands of short-lived dicts and lists, and with the default threshold
    (700 allocations) the collector ran thousands of times a batch, the older generations
    through everything the process holds (Django, the batches): a third of an import's CPU.
    What the process held before is frozen out of the collections; reference counting
    frees the batches as before, and cycles are still collected, every `threshold`
    allocations."""
    before = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(threshold, before[1], before[2])
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()


def prepared_ahead(
    prepare: Callable[[Batch], Prepared], batches: Iterable[Batch], *, thread: bool = True
) -> Iterator[tuple[Batch, Prepared]]:
    """(batch, prepare(batch)) for each batch in order, the next one prepared meanwhile.
    `thread=False` prepares each in turn (the same results; to compare)."""
    if not thread:
        with fewer_collections():
            for batch in batches:
                yield batch, prepare(batch)
        return
    language = translation.get_language()

    def run(batch: Batch) -> Prepared:
        with translation.override(language):
            prepared = prepare(batch)
        opened = [c for c in connections.all(initialized_only=True) if c.connection is not None]
        if opened:
            # Outside the tenant context and the caller's transaction: refuse the result.
            for connection in opened:
                connection.close()
            raise PreparerUsedDatabase(f"{prepare!r} opened a database connection in the preparing thread")
        return prepared

    pending = iter(batches)
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bulk-ahead")
    # Each statement the caller sends lets go of the GIL while it waits; when the answer
    # comes, the caller waits for the preparing thread to let go in turn, after at most the
    # switch interval (5 ms by default): forty-odd statements a batch made that the longest
    # step of the write. A shorter interval while both threads run.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(min(interval, SWITCH_INTERVAL))
    try:
        with fewer_collections():
            batch = next(pending, _END)
            future = pool.submit(run, batch) if batch is not _END else None
            while future is not None:
                prepared = future.result()
                failure = None
                try:
                    upcoming = next(pending, _END)
                except Exception as exc:  # raised once the batch before it is handed over
                    upcoming, failure = _END, exc
                future = pool.submit(run, upcoming) if upcoming is not _END else None
                yield batch, prepared
                if failure is not None:
                    raise failure
                batch = upcoming
    finally:
        # The caller stopped early (a cancelled import) or failed: a batch not started yet
        # is dropped, one being prepared is waited for (seconds at most).
        pool.shutdown(wait=True, cancel_futures=True)
        sys.setswitchinterval(interval)
