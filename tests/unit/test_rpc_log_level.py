"""Which RPC outcomes reach the INFO log (services/common/interceptors.py)."""

from __future__ import annotations

import logging

import pytest

from services.common.interceptors import SLOW_CALL_SECONDS, rpc_log_level
from services.common.request_context import Caller

PERSON = Caller(user_id="u1", session_id="s1", token_id="t1")
SERVICE = Caller(service="worker")


@pytest.mark.parametrize(
    ("code", "caller", "seconds", "level"),
    [
        ("OK", PERSON, 0.001, logging.DEBUG),  # Envoy's access log has it
        ("OK", None, 0.001, logging.DEBUG),  # public methods: login, health
        ("NOT_FOUND", PERSON, 0.001, logging.INFO),
        ("UNAUTHENTICATED", None, 0.001, logging.INFO),
        ("CANCELLED", PERSON, 0.001, logging.INFO),
        ("OK", PERSON, SLOW_CALL_SECONDS, logging.INFO),
        ("OK", SERVICE, 0.001, logging.INFO),  # an internal hop: no other log sees it
    ],
)
def test_level(code: str, caller: Caller | None, seconds: float, level: int) -> None:
    assert rpc_log_level(code, caller, seconds) == level
