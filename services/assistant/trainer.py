"""The trainer process: an RQ worker on the `training` queue (training jobs and the scheduled
maintenance tasks), with the cron scheduler that queues those tasks (schedule.py) in a thread.

Run: python -m services.assistant.trainer
"""

from __future__ import annotations

import logging
import threading

from services.assistant import jobs
from services.assistant.runtime import build_runtime
from services.assistant.schedule import cron_scheduler, run_cron
from services.assistant.training_queue import training_queue
from services.common import rq_worker
from services.common.config import Settings
from services.common.logs import configure_logging
from services.common.redis_client import worker_redis

log = logging.getLogger("trainer")


def main() -> None:
    settings = Settings.from_env()
    configure_logging("assistant-trainer", settings.log_level)
    runtime = build_runtime(settings)
    jobs.install(runtime)
    connection = worker_redis(settings.redis_url)
    stop = threading.Event()
    cron = threading.Thread(
        target=run_cron, args=(cron_scheduler(connection), stop), name="cron", daemon=True
    )
    cron.start()
    try:
        # Jobs run in this process, on the runtime's open channels and store.
        rq_worker.work(training_queue(connection), settings)
    finally:
        stop.set()
        cron.join(timeout=5)
        runtime.close()


if __name__ == "__main__":
    main()
