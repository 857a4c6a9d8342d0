"""Request ids in log lines: executor threads keep the caller's (in_this_context), and a line no
call or job started says it is background work."""

from __future__ import annotations

import asyncio
import json
import logging
from concurrent.futures import ThreadPoolExecutor

from services.common.logs import JsonFormatter
from services.common.request_context import in_this_context, request_id_var


def test_executor_work_keeps_the_request_id() -> None:
    async def call() -> tuple[str, str]:
        request_id_var.set("req-1")
        loop = asyncio.get_running_loop()
        with ThreadPoolExecutor(1) as executor:
            bare = await loop.run_in_executor(executor, request_id_var.get)
            kept = await loop.run_in_executor(executor, in_this_context(request_id_var.get))
        return bare, kept

    bare, kept = asyncio.run(call())
    assert (bare, kept) == ("", "req-1")  # run_in_executor alone loses it


def test_lines_outside_a_call_are_labelled_background() -> None:
    record = logging.makeLogRecord({"name": "x", "msg": "starting", "levelname": "INFO"})
    line = json.loads(JsonFormatter("nlp").format(record))
    assert line["request_id"] == "nlp-background"
    token = request_id_var.set("req-2")
    try:
        assert json.loads(JsonFormatter("nlp").format(record))["request_id"] == "req-2"
    finally:
        request_id_var.reset(token)


def test_line_times_are_utc_to_the_millisecond_across_seconds() -> None:
    formatter = JsonFormatter("nlp")
    stamps = []
    for second, msecs in ((1_795_716_181, 123), (1_795_716_181, 999), (1_795_716_182, 4)):
        record = logging.makeLogRecord({"name": "x", "msg": "m", "levelname": "INFO"})
        record.created, record.msecs = second + msecs / 1000, msecs
        stamps.append(json.loads(formatter.format(record))["ts"])
    assert stamps == [
        "2026-11-26T18:03:01.123Z",
        "2026-11-26T18:03:01.999Z",
        "2026-11-26T18:03:02.004Z",
    ]
