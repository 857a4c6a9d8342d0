"""bench/load's Go load generator against a tiny local HTTP server: its JSON report, error
counting by status and both loop modes. (Its percentile and weighting logic: `go test`.)"""

from __future__ import annotations

import http.server
import shutil
import subprocess
import threading
from collections.abc import Iterator

import pytest

from bench.load import loadgen
from bench.load.loadgen import Target

pytestmark = pytest.mark.skipif(shutil.which("go") is None, reason="needs the Go toolchain")


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as Envoy

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        status = 500 if self.path.startswith("/fail") else 200
        if self.headers.get("Authorization") != "Bearer t":
            status = 401
        body = b'{"ok": true}'
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module", autouse=True)
def built() -> None:
    loadgen.build()


def test_go_unit_tests_pass() -> None:
    done = subprocess.run(
        ["go", "test", "./..."], cwd=loadgen.HERE, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


TARGETS = [
    Target("good", "GET", ["/ok/1", "/ok/2"], weight=3, headers={"Authorization": "Bearer t"}),
    Target("bad", "GET", ["/fail"], weight=1, headers={"Authorization": "Bearer t"}),
    Target("post", "POST", ["/ok"], weight=1, body='{"a": 1}'),  # no token: 401
]


def test_closed_loop_report(url: str) -> None:
    report = loadgen.run(
        url, TARGETS, mode="closed", seconds=1.5, connections=4, warmup_seconds=0.2
    )

    total, kinds = report["total"], report["kinds"]
    assert set(kinds) == {"good", "bad", "post"}
    assert total["count"] == sum(k["count"] for k in kinds.values()) > 0
    assert kinds["good"]["errors"] == {}
    assert kinds["bad"]["errors"] == {"500": kinds["bad"]["count"]}
    assert kinds["post"]["errors"] == {"401": kinds["post"]["count"]}
    assert total["errors"] == {"500": kinds["bad"]["count"], "401": kinds["post"]["count"]}
    for stats in [total, *kinds.values()]:
        assert 0 < stats["p50_ms"] <= stats["p90_ms"] <= stats["p99_ms"] <= stats["max_ms"]
    assert report["gomaxprocs"] == 1 and report["loadgen_cpu_share"] >= 0
    # The warm-up's requests are answered but not measured.
    assert report["answered_total"] > total["count"]
    assert '"ok": true' in report["error_examples"]["500"]


def test_open_loop_sends_the_scheduled_requests(url: str) -> None:
    report = loadgen.run(
        url,
        TARGETS[:1],
        mode="open",
        rate=100,
        seconds=2,
        connections=4,
        warmup_seconds=0,
        window_seconds=1,
    )

    # Every request scheduled in the window is counted, however slow: 100/s for 2 s.
    assert report["total"]["count"] == 200
    assert report["answered_total"] == 200  # no warm-up
    assert report["total"]["errors"] == {}
    # The wait before sending is part of each request's latency, never more than it.
    assert 0 <= report["total"]["start_lag_p99_ms"] <= report["total"]["p99_ms"]
    assert [w["count"] for w in report["windows"]] == [100, 100]
