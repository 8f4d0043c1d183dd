"""The model-call progress bar's rate column."""

from __future__ import annotations

from types import SimpleNamespace

from deliberate.llm import progress as progress_module
from deliberate.llm.progress import RunProgress


def test_rate_is_over_the_whole_run_when_a_batch_lands_at_once(monkeypatch):
    clock = iter([100.0] + [110.0] * 32)  # start, then 32 results of one batch, 10 s later
    # only this module's clock is replaced (rich keeps the real one)
    monkeypatch.setattr(progress_module, "time", SimpleNamespace(monotonic=lambda: next(clock)))
    bar = RunProgress("eval", total=64)
    for _ in range(32):
        bar.advance()
    task = bar._progress.tasks[0]
    assert task.completed == 32
    assert task.fields["rate"] == "3.20/s"  # 32 in 10 s, not rich's burst speed


def test_without_a_total_it_counts_and_starts_with_the_first_sent_request():
    bar = RunProgress("stream", total=None)
    bar.advance(3, cached=True)  # cache hits alone show no bar
    assert bar._progress is None and bar.completed == 3
    bar.advance(failed=True)
    task = bar._progress.tasks[0]
    assert task.total is None and task.completed == 4 and task.fields["failed"] == 1
    bar.close()


def test_inside_one_bar_every_opened_bar_is_a_view_onto_one_bar():
    from deliberate.llm.progress import one_bar, open_progress

    with one_bar() as shared:
        first = open_progress("generate", total=10, enabled=True)
        first.advance(2)
        first.close()  # a chunk's stream ends: the bar stays up
        second = open_progress("generate", total=10, enabled=True)
        second.advance(failed=True)
        shared.inputs_done(4, 9)
        task = shared.bar._progress.tasks[0]
        assert task.completed == 3 and task.fields["failed"] == 1 and task.total is None
        assert task.description == "generate (4/9 inputs done)"
        with one_bar() as nested:  # nested runs share the outermost bar
            assert nested is shared
    assert shared.bar._progress is None  # closed when the run ends
    alone = open_progress("eval", total=5, enabled=False)  # outside: a bar of its own
    assert type(alone) is RunProgress and alone.total == 5


def test_a_slow_rate_reads_as_seconds_each():
    from deliberate.llm.progress import _rate

    assert _rate(32, 10.0) == "3.20/s"
    assert _rate(3, 1500.0) == "500 s each"  # not "0.00/s"
    assert _rate(0, 5.0) == ""
