"""RQ job entry points of the `training` queue. RQ imports this module by name
(services.assistant.jobs.train_models); the trainer process installs the runtime first."""

from __future__ import annotations

import logging

from rq import get_current_job

from services.assistant import maintenance
from services.assistant.runtime import TrainerRuntime
from services.common.clock import utc_now
from services.common.request_context import request_id_var

log = logging.getLogger(__name__)

_runtime: TrainerRuntime | None = None


def install(runtime: TrainerRuntime) -> None:
    """Called once by the trainer process before it takes jobs."""
    global _runtime
    _runtime = runtime


def _installed() -> TrainerRuntime:
    if _runtime is None:
        raise RuntimeError("trainer not installed; run `python -m services.assistant.trainer`")
    return _runtime


def train_models(job_id: str, owner_id: str, request_id: str = "") -> str:
    runtime = _installed()
    # The worker set the request id from the job's meta; `request_id` is only given by jobs
    # queued before it moved there.
    if request_id:
        request_id_var.set(request_id)
    job = get_current_job()
    last_attempt = job is None or not job.retries_left
    request_id = request_id_var.get() or f"train-{job_id}"
    done = runtime.run(runtime.trainer.run(owner_id, job_id, last_attempt), request_id)
    outcome = done.status.value if done is not None else "SKIPPED"
    log.info("training job done", extra={"job_id": job_id, "outcome": outcome})
    return outcome


def retrain_with_new_feedback() -> list[str]:
    runtime = _installed()
    queued = runtime.run(runtime.planner.retrain_due(), "cron-retrain")
    log.info("nightly retraining queued", extra={"owners": len(queued)})
    return queued


def reindex() -> int:
    runtime = _installed()
    dropped = runtime.run(maintenance.reindex(runtime.store, runtime.redis), "cron-reindex")
    log.info("re-indexed", extra={"cache_entries_dropped": dropped})
    return dropped


def backup_stores() -> str:
    runtime = _installed()
    target = maintenance.backup_sqlite_files(runtime.settings.data_dir, utc_now())
    log.info("stores backed up", extra={"to": str(target)})
    return str(target)
