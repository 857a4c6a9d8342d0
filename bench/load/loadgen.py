"""The Go load generator (bench/load/loadgen): build it, run it, read its JSON.

Python on two cores cannot drive ~1,500 req/s without taking the CPU it measures, so the load
comes from a small Go program (stdlib net/http, HTTP/1.1 keep-alive) held to GOMAXPROCS=1.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
BINARY = ROOT / "build" / "tools" / "bin" / "insight-loadgen"


@dataclass(frozen=True)
class Target:
    """One request shape; requests of the same kind are reported together."""

    kind: str
    method: str
    paths: Sequence[str]
    weight: float = 1.0
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "method": self.method,
            "paths": list(self.paths),
            "weight": self.weight,
            "body": self.body,
            "headers": self.headers,
        }


def build() -> pathlib.Path:
    """`go build` (cached by Go, so a no-op when nothing changed)."""
    BINARY.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["go", "build", "-o", str(BINARY), "./loadgen"],
        cwd=HERE,
        check=True,
        env={**os.environ, "CGO_ENABLED": "0"},
    )
    return BINARY


def run(
    url: str,
    targets: Sequence[Target],
    *,
    mode: str,
    seconds: float,
    connections: int = 32,
    rate: float = 0.0,
    warmup_seconds: float = 2.0,
    window_seconds: float = 0.0,
    gomaxprocs: int = 1,
) -> dict[str, Any]:
    """Runs the generator and returns its JSON report (see loadgen/main.go)."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as spec:
        json.dump([t.as_json() for t in targets], spec)
    argv = [
        str(BINARY),
        "-url",
        url,
        "-targets",
        spec.name,
        "-mode",
        mode,
        "-connections",
        str(connections),
        "-duration",
        f"{seconds}s",
        "-warmup",
        f"{warmup_seconds}s",
    ]
    if mode == "open":
        argv += ["-rate", str(rate)]
    if window_seconds:
        argv += ["-window", f"{window_seconds}s"]
    try:
        done = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "GOMAXPROCS": str(gomaxprocs)},
        )
    finally:
        os.unlink(spec.name)
    report: dict[str, Any] = json.loads(done.stdout)
    return report
