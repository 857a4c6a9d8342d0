"""Per-request values (request id, caller) carried in context variables across awaits."""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")


@dataclass(frozen=True)
class Caller:
    """Who is calling: a person (user_id set) or another service (service set)."""

    user_id: str = ""
    session_id: str = ""
    token_id: str = ""
    token_expires_at: int = 0
    service: str = ""


caller_var: contextvars.ContextVar[Caller | None] = contextvars.ContextVar("caller", default=None)


def current_request_id() -> str:
    return request_id_var.get()


def new_request_id() -> str:
    return uuid.uuid4().hex


def in_this_context(work: Callable[P, T]) -> Callable[P, T]:
    """`work`, run in a copy of the caller's context: an executor thread's log lines then carry
    the request id (run_in_executor, unlike asyncio.to_thread, does not copy it)."""
    context = contextvars.copy_context()

    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        return context.run(work, *args, **kwargs)

    return run


def current_caller() -> Caller:
    """The authenticated caller; the auth interceptor guarantees one on protected methods."""
    caller = caller_var.get()
    if caller is None:
        raise RuntimeError("no authenticated caller in this context")
    return caller


def current_user_id() -> str:
    user_id = current_caller().user_id
    if not user_id:
        raise RuntimeError("the caller is a service, not a person")
    return user_id


# Queued jobs carry the request id of the call that queued them in their meta, so every log line
# of the job (the RQ worker's own included) carries it (services/common/rq_worker.py).
JOB_META_REQUEST_ID = "request_id"


def job_meta(request_id: str) -> dict[str, str]:
    return {JOB_META_REQUEST_ID: request_id} if request_id else {}
