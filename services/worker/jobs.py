"""RQ job entry points. RQ imports this module by name (services.worker.jobs.process_insight)."""

from __future__ import annotations

import logging

from rq import get_current_job

from services.common.request_context import request_id_var
from services.worker.domain.pipeline import InsightPipeline

log = logging.getLogger(__name__)

_pipeline: InsightPipeline | None = None


def install(pipeline: InsightPipeline) -> None:
    """Called once by the worker process before it takes jobs."""
    global _pipeline
    _pipeline = pipeline


def process_insight(insight_id: str, version: int, request_id: str = "") -> str:
    if _pipeline is None:
        raise RuntimeError("worker pipeline not installed; run `python -m services.worker.main`")
    # The worker set the request id from the job's meta; `request_id` is only given by jobs
    # queued before it moved there.
    if request_id:
        request_id_var.set(request_id)
    job = get_current_job()
    last_attempt = job is None or not job.retries_left
    outcome = _pipeline.run(insight_id, version, last_attempt=last_attempt)
    log.info(
        "insight processed",
        extra={"insight_id": insight_id, "version": version, "outcome": outcome.value},
    )
    return outcome.value
