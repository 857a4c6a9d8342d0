"""Per-request values (request id, caller) carried in context variables across awaits."""

from __future__ import annotations

import contextvars
import uuid
from dataclasses import dataclass

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
