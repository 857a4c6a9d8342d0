"""The pipeline's outcome per kind of error, and the sweeper's re-queue backoff."""

from __future__ import annotations

import pytest

from services.worker.domain.pipeline import InsightPipeline, Outcome, TimeoutLimit
from services.worker.domain.ports import PermanentError, RemoteError, TimedOut, TransientError
from services.worker.domain.requeue import RequeueBackoff
from tests.unit.worker_fakes import Nlp, Steps, Tally


@pytest.mark.parametrize(
    "error", [TransientError("UNAVAILABLE: nlp down"), RemoteError("INTERNAL: bug")]
)
def test_errors_before_the_last_attempt_go_back_to_the_queue(error: Exception) -> None:
    steps = Steps()
    with pytest.raises(type(error)):
        InsightPipeline(steps, Nlp(error)).run("i1", 1, last_attempt=False)
    assert steps.calls == []


def test_a_dependency_still_down_at_the_last_attempt_defers_the_insight() -> None:
    steps = Steps()
    outcome = InsightPipeline(steps, Nlp(TransientError("UNAVAILABLE: nlp down"))).run(
        "i1", 1, last_attempt=True
    )
    assert outcome is Outcome.DEFERRED
    assert steps.calls == [("defer", "waiting for a service to come back: UNAVAILABLE: nlp down")]


def test_other_errors_at_the_last_attempt_fail_the_insight() -> None:
    steps = Steps()
    outcome = InsightPipeline(steps, Nlp(RemoteError("INTERNAL: bug"))).run(
        "i1", 1, last_attempt=True
    )
    assert outcome is Outcome.FAILED
    assert steps.calls == [("fail", "gave up after retries: INTERNAL: bug")]


def test_a_permanent_error_fails_at_once() -> None:
    steps = Steps()
    outcome = InsightPipeline(steps, Nlp(PermanentError("text is empty"))).run(
        "i1", 1, last_attempt=False
    )
    assert outcome is Outcome.FAILED
    assert steps.calls == [("fail", "text is empty")]


def _last_attempts(error: Exception, limit: TimeoutLimit, times: int) -> list[Outcome]:
    pipeline = InsightPipeline(Steps(), Nlp(error), timeout_limit=limit)
    return [pipeline.run("i1", 1, last_attempt=True) for _ in range(times)]


def test_a_version_that_keeps_timing_out_fails_at_the_limit() -> None:
    steps = Steps()
    timeout = TimedOut("DEADLINE_EXCEEDED: Deadline Exceeded")
    pipeline = InsightPipeline(steps, Nlp(timeout), timeout_limit=TimeoutLimit(Tally(), 3))
    outcomes = [pipeline.run("i1", 1, last_attempt=True) for _ in range(3)]
    assert outcomes == [Outcome.DEFERRED, Outcome.DEFERRED, Outcome.FAILED]
    assert [call for call, _ in steps.calls] == ["defer", "defer", "fail"]
    assert steps.calls[-1][1] == (
        "gave up after timing out in 3 rounds of retries: DEADLINE_EXCEEDED: Deadline Exceeded"
    )


def test_timeouts_before_the_last_attempt_are_not_counted() -> None:
    tally = Tally()
    pipeline = InsightPipeline(Steps(), Nlp(TimedOut("slow")), timeout_limit=TimeoutLimit(tally, 1))
    with pytest.raises(TimedOut):
        pipeline.run("i1", 1, last_attempt=False)
    assert tally.counts == {}


@pytest.mark.parametrize(
    ("error", "limit"),
    [
        (TransientError("UNAVAILABLE: nlp down"), TimeoutLimit(Tally(), 1)),  # down: wait
        (TimedOut("DEADLINE_EXCEEDED"), TimeoutLimit(Tally(), 0)),  # no limit
        (TimedOut("DEADLINE_EXCEEDED"), TimeoutLimit(Tally(broken=True), 1)),  # cannot count
    ],
    ids=["unavailable", "limit-off", "tally-down"],
)
def test_outages_without_a_countable_timeout_always_defer(
    error: Exception, limit: TimeoutLimit
) -> None:
    assert _last_attempts(error, limit, 5) == [Outcome.DEFERRED] * 5


def test_backoff_requeues_at_once_then_doubles_up_to_the_cap() -> None:
    now = [0.0]
    backoff = RequeueBackoff(10, 25, clock=lambda: now[0])
    key = ("i1", 1)
    waits = []
    for _ in range(4):
        assert backoff.due([key]) == [key]
        backoff.requeued(key)
        started = now[0]
        while not backoff.due([key]):
            now[0] += 1
        waits.append(now[0] - started)
    assert waits == [10, 20, 25, 25]


def test_backoff_forgets_insights_that_are_no_longer_stale() -> None:
    now = [0.0]
    backoff = RequeueBackoff(10, 100, clock=lambda: now[0])
    first, second = ("i1", 1), ("i2", 1)
    for key in (first, second):
        backoff.requeued(key)
    assert backoff.due([first, second]) == []
    assert backoff.due([second]) == []  # first is done: forgotten
    assert backoff.due([first, second]) == [first]  # stale again: a new outage, no delay
