"""The gateway's strict JSON checks (gateway/request_checks.lua), timed in LuaJIT through lupa on
typical and worst-case bodies: what one request costs one of Envoy's worker threads.

Run: python -m bench.request_checks [--rounds 20]

Envoy runs the same script in its own LuaJIT; this measures the script, not Envoy's filter
plumbing around it (one coroutine and a copy of the body per request).
"""

from __future__ import annotations

import argparse
import json
import pathlib
from typing import Any

from lupa import luajit21

from gateway.request_checks import MAX_JSON_BYTES, render_request_checks

DESCRIPTOR = pathlib.Path(__file__).resolve().parents[2] / "generated" / "descriptor.binpb"
TYPICAL = {"text": "Meeting with Sarah from Google about the API migration", "tags": ["work"]}


def bodies() -> list[tuple[str, str]]:
    """(name, JSON) for POST /insights: valid ones first, then the costliest that fit the cap."""
    fill = MAX_JSON_BYTES - 64

    def filling(item: Any, item_bytes: int) -> list[Any]:
        return [item] * (fill // item_bytes)

    return [
        ("typical create", json.dumps(TYPICAL)),
        ("20,000 characters of text", json.dumps({"text": "word " * 4_000, "tags": ["a"] * 32})),
        ("20,000 non-ASCII characters, escaped", json.dumps({"text": "é" * 20_000})),
        ("20,000 emoji, escaped (surrogate pairs)", json.dumps({"text": "😀" * 20_000})),
        ("cap-sized: one string of escapes", json.dumps({"text": "é" * (fill // 6)})),
        ("cap-sized: short strings in an unknown field", json.dumps({"x": filling("ab", 6)})),
        ("cap-sized: empty objects in an unknown field", json.dumps({"x": filling({}, 4)})),
        ("cap-sized: numbers in an unknown field", json.dumps({"x": filling(1234567, 9)})),
        ("cap-sized: tags (each element checked)", json.dumps({"tags": filling("ab", 6)})),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.request_checks")
    parser.add_argument("--rounds", type=int, default=20, help="timed runs of each big body")
    args = parser.parse_args()
    lua = luajit21.LuaRuntime(unpack_returned_tuples=True)
    lua.execute(render_request_checks(DESCRIPTOR))
    time_checks = lua.eval(
        """function(route, text, n)
          REQUEST_CHECKS.check_body(route, text)  -- warm the JIT
          local started = os.clock()
          for _ = 1, n do REQUEST_CHECKS.check_body(route, text) end
          return (os.clock() - started) / n
        end"""
    )
    route = lua.globals().REQUEST_CHECKS.route_for("POST", "/insights")
    print(f"JSON cap {MAX_JSON_BYTES:,} bytes; CPU time per check (os.clock)")
    for name, body in bodies():
        assert len(body) <= MAX_JSON_BYTES, name
        rounds = 20_000 if len(body) < 1_000 else args.rounds
        seconds = time_checks(route, body, rounds)
        shown = f"{seconds * 1e6:,.1f} µs" if seconds < 1e-3 else f"{seconds * 1e3:,.1f} ms"
        print(f"  {name:<48} {len(body):>9,} bytes  {shown:>10}")


if __name__ == "__main__":
    main()
