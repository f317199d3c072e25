"""prepared_ahead: the next batch prepared in a thread while the caller writes the current one
(logicnet/bulk/ahead.py)."""

import threading

import pytest
from django.utils import translation
from django.utils.translation import gettext as _

from logicnet.bulk.ahead import prepared_ahead


def test_batches_come_back_in_order_prepared_in_another_thread():
    caller = threading.get_ident()
    seen_threads = []

    def prepare(batch):
        seen_threads.append(threading.get_ident())
        return [n * 10 for n in batch]

    out = list(prepared_ahead(prepare, [[1, 2], [3], [4, 5, 6]]))

    assert out == [([1, 2], [10, 20]), ([3], [30]), ([4, 5, 6], [40, 50, 60])]
    assert seen_threads and caller not in seen_threads


def test_the_next_batch_is_prepared_while_the_caller_holds_the_current_one():
    started = {}
    release = threading.Event()

    def prepare(batch):
        started[batch] = True
        return batch

    steps = prepared_ahead(prepare, iter(["a", "b", "c"]))
    first = next(steps)
    # While the caller works on "a", "b" is being prepared: wait for it without a clock.
    for _attempt in range(1000):
        if "b" in started:
            break
        release.wait(0.01)
    assert first == ("a", "a")
    assert started.get("b") is True
    assert "c" not in started  # one batch ahead, no more
    assert list(steps) == [("b", "b"), ("c", "c")]


def test_without_the_thread_the_results_are_the_same():
    batches = [[1], [2, 3]]
    assert list(prepared_ahead(len, batches, thread=False)) == list(prepared_ahead(len, batches))


def test_an_error_reading_the_next_batch_comes_after_the_current_batch_was_handed_over():
    def batches():
        yield "first"
        raise OSError("the upload is unreadable from here")

    steps = prepared_ahead(str.upper, batches())
    assert next(steps) == ("first", "FIRST")  # handed over and written before the failure shows
    with pytest.raises(OSError, match="unreadable"):
        next(steps)


def test_an_error_preparing_a_batch_is_raised_when_the_caller_reaches_it():
    def prepare(batch):
        if batch == "bad":
            raise ValueError("cannot prepare")
        return batch

    steps = prepared_ahead(prepare, ["good", "bad", "never"])
    assert next(steps) == ("good", "good")
    with pytest.raises(ValueError, match="cannot prepare"):
        next(steps)


def test_stopping_early_leaves_no_thread_behind():
    steps = prepared_ahead(lambda b: b, range(100))
    assert next(steps) == (0, 0)
    steps.close()
    assert not [t for t in threading.enumerate() if t.name.startswith("bulk-ahead")]


def test_the_worker_writes_in_the_callers_language():
    with translation.override("ro"):
        expected = _("The row has no name.")
        out = list(prepared_ahead(lambda b: _(b), ["The row has no name."]))
    assert expected != "The row has no name."
    assert out == [("The row has no name.", expected)]


def test_the_switch_interval_is_shorter_while_batches_are_prepared_and_restored_after():
    import sys

    before = sys.getswitchinterval()
    seen = []
    for _batch, _prepared in prepared_ahead(lambda b: b, [1, 2]):
        seen.append(sys.getswitchinterval())
    assert seen and all(interval <= 0.0005 for interval in seen)
    assert sys.getswitchinterval() == before


def test_the_collector_runs_less_often_while_batches_are_prepared_and_as_before_after():
    import gc

    before = gc.get_threshold()
    seen = [gc.get_threshold()[0] for _batch, _prepared in prepared_ahead(lambda b: b, [1, 2])]
    seen += [gc.get_threshold()[0] for _batch, _prepared in prepared_ahead(lambda b: b, [1], thread=False)]
    assert seen == [50_000] * 3
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


@pytest.mark.django_db
def test_a_preparer_that_touches_the_database_is_refused():
    from django.db import connection

    from logicnet.bulk.ahead import PreparerUsedDatabase

    def reads_the_database(batch):
        with connection.cursor() as cursor:  # this thread's own connection: no tenant, no transaction
            cursor.execute("SELECT 1")
        return batch

    with pytest.raises(PreparerUsedDatabase):
        list(prepared_ahead(reads_the_database, [1]))
