"""The pipeline worker process: an RQ worker on the `pipeline` queue, plus the sweeper that
re-queues insights left PENDING or PROCESSING (a crash, a lost job, Redis down at create time).

Run: python -m services.worker.main
"""

from __future__ import annotations

import logging
import threading

from rq import SimpleWorker

from services.common.clients import ServiceCredential, sync_channel
from services.common.config import Settings
from services.common.logs import configure_logging
from services.common.pipeline_jobs import enqueue_process_insight, pipeline_queue
from services.common.redis_client import sync_redis
from services.common.request_context import request_id_var
from services.common.tokens import TokenCodec
from services.worker import jobs
from services.worker.clients import GrpcInsightSteps, GrpcNlp
from services.worker.domain.pipeline import InsightPipeline
from services.worker.domain.ports import InsightSteps

log = logging.getLogger("worker")
SWEEP_BATCH = 500


def sweep_forever(steps: InsightSteps, settings: Settings, stop: threading.Event) -> None:
    queue = pipeline_queue(sync_redis(settings.redis_url))
    request_id_var.set("sweeper")
    while not stop.is_set():
        try:
            stale = steps.stale(settings.stale_after_seconds, SWEEP_BATCH)
            for insight_id, version in stale:
                enqueue_process_insight(queue, insight_id, version, f"sweep-{insight_id}")
            if stale:
                log.info("re-queued stale insights", extra={"count": len(stale)})
        except Exception:
            log.exception("sweep failed; will retry")
        stop.wait(settings.sweep_interval_seconds)


def main() -> None:
    settings = Settings.from_env()
    configure_logging("worker", settings.log_level)
    codec = TokenCodec(
        settings.jwt_secret,
        settings.jwt_algorithm,
        settings.jwt_issuer,
        settings.access_token_ttl_seconds,
        settings.service_token_secret,
    )
    credential = ServiceCredential(codec, "worker")
    steps = GrpcInsightSteps(sync_channel(settings.insight_address), credential)
    nlp = GrpcNlp(sync_channel(settings.nlp_address), credential)
    jobs.install(InsightPipeline(steps, nlp))

    stop = threading.Event()
    sweeper = threading.Thread(
        target=sweep_forever, args=(steps, settings, stop), name="sweeper", daemon=True
    )
    sweeper.start()
    connection = sync_redis(settings.redis_url)
    # SimpleWorker runs jobs in this process: the gRPC channels stay open between jobs (a forking
    # worker would reconnect per job). with_scheduler runs the retries' backoff.
    worker = SimpleWorker([pipeline_queue(connection)], connection=connection)
    try:
        worker.work(with_scheduler=True, logging_level=settings.log_level)
    finally:
        stop.set()


if __name__ == "__main__":
    main()
