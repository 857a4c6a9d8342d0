"""The pipeline worker process: an RQ worker on the `pipeline` queue, plus the sweeper that
re-queues insights left PENDING or PROCESSING (a crash, a lost job, Redis down at create time).

Run: python -m services.worker.main
"""

from __future__ import annotations

import logging
import threading

from services.common import rq_worker
from services.common.clients import ServiceCredential, sync_channel
from services.common.config import Settings
from services.common.logs import configure_logging
from services.common.pipeline_jobs import enqueue_process_insight, is_in_hand, pipeline_queue
from services.common.redis_client import sync_redis, worker_redis
from services.common.request_context import request_id_var
from services.common.tokens import TokenCodec
from services.worker import jobs
from services.worker.clients import GrpcGraph, GrpcInsightSteps, GrpcNlp
from services.worker.domain.pipeline import InsightPipeline, TimeoutLimit
from services.worker.domain.ports import InsightSteps
from services.worker.domain.requeue import RequeueBackoff
from services.worker.metrics import PrometheusStageObserver
from services.worker.timeout_tally import RedisTimeoutTally

log = logging.getLogger("worker")
SWEEP_BATCH = 500


def sweep_forever(steps: InsightSteps, settings: Settings, stop: threading.Event) -> None:
    queue = pipeline_queue(sync_redis(settings.redis_url))
    backoff = RequeueBackoff(settings.requeue_backoff_seconds, settings.requeue_backoff_max_seconds)
    request_id_var.set("sweeper")
    while not stop.is_set():
        try:
            stale = steps.stale(settings.stale_after_seconds, SWEEP_BATCH)
            # A job still queued, or running on a worker that still beats, will get there; one
            # whose worker went silent died with it, and a deferred one (a service stayed
            # down) has no job left, so those are queued again (backing off while they keep
            # coming back). A duplicate is harmless: claims are per version, READY/FAILED final.
            lost = [(i, v) for i, v in backoff.due(stale) if not is_in_hand(queue, i, v)]
            for insight_id, version in lost:
                enqueue_process_insight(
                    queue,
                    insight_id,
                    version,
                    f"sweep-{insight_id}",
                    settings.job_retry_intervals_seconds,
                )
                backoff.requeued((insight_id, version))
            if lost:
                log.info("re-queued stale insights", extra={"count": len(lost)})
        except Exception:
            log.exception("sweep failed; will retry")
        stop.wait(settings.sweep_interval_seconds)


def main() -> None:
    settings = Settings.from_env()
    configure_logging("worker", settings.log_level)
    codec = TokenCodec.from_settings(settings)
    credential = ServiceCredential(codec, "worker")
    steps = GrpcInsightSteps(sync_channel(settings.insight_address), credential)
    nlp = GrpcNlp(sync_channel(settings.nlp_address), credential)
    graph = GrpcGraph(sync_channel(settings.graph_address), credential)
    timeout_limit = TimeoutLimit(
        RedisTimeoutTally(sync_redis(settings.redis_url)), settings.max_timeout_deferrals
    )
    jobs.install(InsightPipeline(steps, nlp, graph, PrometheusStageObserver(), timeout_limit))

    stop = threading.Event()
    sweeper = threading.Thread(
        target=sweep_forever, args=(steps, settings, stop), name="sweeper", daemon=True
    )
    sweeper.start()
    try:
        rq_worker.work(pipeline_queue(worker_redis(settings.redis_url)), settings)
    finally:
        stop.set()


if __name__ == "__main__":
    main()
