"""The assistant's scheduled tasks, run by RQ's CronScheduler (rq >= 2.5, `rq.cron`).

Tasks (all on queue `training`, times in UTC):

- 02:00 daily, services.assistant.jobs.retrain_with_new_feedback: queues training for every
  owner with suggestion feedback or changed theme corrections since their last training
  (domain/retraining.py).
- 02:30 daily, services.assistant.jobs.reindex: optimises the assistant's store and drops its
  cached responses (maintenance.py).
- 03:00 daily, services.assistant.jobs.backup_stores: snapshots data_dir/*.sqlite3 into
  data_dir/backups/<timestamp>/ and keeps the newest 7 (maintenance.py).

The scheduler only *enqueues*; the trainer's RQ worker runs the jobs, so they are logged,
retried and visible like any other RQ job (`rq info`, the cron registry in Redis). It runs in a
thread of every trainer process, but only the one holding a Redis lease (LEADER_KEY, renewed
every loop) enqueues: with several trainers a task is still queued once. The others keep their
schedule moving so they never fire a backlog when they take over.
"""

from __future__ import annotations

import logging
import os
import socket
import threading

import redis
from rq.cron import CronScheduler

from services.assistant import jobs
from services.assistant.training_queue import TRAINING_QUEUE
from services.common.clock import utc_now

log = logging.getLogger(__name__)

RETRAIN_CRON = "0 2 * * *"
REINDEX_CRON = "30 2 * * *"
BACKUP_CRON = "0 3 * * *"
LEADER_KEY = "assistant:cron:leader"
LEASE_SECONDS = 180
MAX_SLEEP_SECONDS = 60.0


def cron_scheduler(connection: redis.Redis) -> CronScheduler:
    scheduler = CronScheduler(connection, name=f"assistant:{socket.gethostname()}:{os.getpid()}")
    scheduler.register(
        jobs.retrain_with_new_feedback,
        TRAINING_QUEUE,
        cron=RETRAIN_CRON,
        job_timeout=3600,
        name="assistant-retrain",
    )
    scheduler.register(
        jobs.reindex, TRAINING_QUEUE, cron=REINDEX_CRON, job_timeout=600, name="assistant-reindex"
    )
    scheduler.register(
        jobs.backup_stores,
        TRAINING_QUEUE,
        cron=BACKUP_CRON,
        job_timeout=3600,
        name="assistant-backup",
    )
    return scheduler


def is_leader(connection: redis.Redis, name: str) -> bool:
    """Takes or renews the lease; True while this scheduler holds it."""
    if connection.set(LEADER_KEY, name, nx=True, ex=LEASE_SECONDS):
        return True
    holder = connection.get(LEADER_KEY)
    if holder is not None and (holder.decode() if isinstance(holder, bytes) else holder) == name:
        connection.expire(LEADER_KEY, LEASE_SECONDS)
        return True
    return False


def tick(scheduler: CronScheduler) -> int:
    """One pass: enqueue what is due (as leader) or just move the schedule on."""
    if is_leader(scheduler.connection, scheduler.name):
        enqueued = scheduler.enqueue_jobs()
        if enqueued:
            scheduler.save()
        count = len(enqueued)
    else:
        for cron_job in scheduler.get_jobs():
            if cron_job.should_run():
                cron_job.set_enqueue_time(utc_now())
        count = 0
    scheduler.heartbeat()
    return count


def run_cron(scheduler: CronScheduler, stop: threading.Event) -> None:
    """CronScheduler.start() without its signal handlers, so it can run in a thread."""
    scheduler.register_birth()
    try:
        while not stop.is_set():
            try:
                tick(scheduler)
            except redis.RedisError:
                log.warning("cron scheduler cannot reach Redis; will retry")
            stop.wait(max(1.0, min(MAX_SLEEP_SECONDS, scheduler.calculate_sleep_interval())))
    finally:
        try:
            scheduler.register_death()
        except redis.RedisError:
            log.warning("could not unregister the cron scheduler")
