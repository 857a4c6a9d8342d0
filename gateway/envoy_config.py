"""Render the Envoy gateway config (REST/JSON -> gRPC) from the top-level `envoy.yaml` template.

    python -m gateway.envoy_config --http-port 8080 --admin-port 9901 \
        --descriptor generated/descriptor.binpb \
        --upstream insight=127.0.0.1:50051 --upstream graph=127.0.0.1:50052 \
        --upstream assistant=127.0.0.1:50053 --out build/envoy.yaml

Repeat `--upstream` for the same name to list several processes (replicas) of one service.
"""

from __future__ import annotations

import argparse
import json
import math
import pathlib
import string
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from gateway.request_checks import render_request_checks

TEMPLATE_PATH = pathlib.Path(__file__).resolve().parent.parent / "envoy.yaml"
UPSTREAM_NAMES = ("insight", "graph", "assistant")
OPENAPI_PATH = TEMPLATE_PATH.parent / "generated" / "openapi" / "insight-tracker.json"


@dataclass(frozen=True)
class GatewaySettings:
    http_port: int
    admin_port: int
    descriptor_path: pathlib.Path
    upstreams: Mapping[str, tuple[str, int]]
    # More processes of an upstream (replicas) beside the one in `upstreams`, by upstream name.
    extra_endpoints: Mapping[str, Sequence[tuple[str, int]]] = field(default_factory=dict)
    rate_limit_tokens: int = 200
    rate_limit_fill_per_second: int = 100
    # Per client IP (see envoy.yaml): a burst of `tokens`, refilled at `fill_per_second`.
    ip_rate_limit_tokens: int = 100
    ip_rate_limit_fill_per_second: int = 20
    max_ip_buckets: int = 10_000
    # Proxies in front of Envoy whose X-Forwarded-For entries are trusted (0: Envoy is the edge).
    xff_trusted_hops: int = 0
    max_request_bytes: int = 26_214_400 + 65_536  # 25 MB audio + headroom
    route_timeout_seconds: float = 30.0
    # Served at GET /openapi.json; Envoy reads it once, at start-up.
    openapi_path: pathlib.Path = OPENAPI_PATH
    max_direct_response_bytes: int = 1_048_576


def _port(value: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
        raise ValueError(f"{what}: not a TCP port: {value!r}")
    return value


def _positive(value: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{what}: must be a positive integer: {value!r}")
    return value


def _non_negative(value: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{what}: must be a non-negative integer: {value!r}")
    return value


def _duration(seconds: float) -> str:
    if not math.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"route_timeout_seconds: must be positive: {seconds!r}")
    return json.dumps(f"{seconds:.3f}s")


def _endpoints(name: str, addresses: Sequence[tuple[str, int]]) -> str:
    """A YAML flow list of lb_endpoints, one per process."""
    items = []
    for host, port in addresses:
        if not host or any(c.isspace() for c in host):
            raise ValueError(f"upstream {name}: bad host {host!r}")
        address = f"address: {json.dumps(host)}, port_value: {_port(port, f'upstream {name}')}"
        items.append(f"{{ endpoint: {{ address: {{ socket_address: {{ {address} }} }} }} }}")
    return "[" + ", ".join(items) + "]"


def render_envoy_config(settings: GatewaySettings) -> str:
    """Return the concrete Envoy v3 bootstrap (YAML) for `settings`."""
    if set(settings.upstreams) != set(UPSTREAM_NAMES):
        raise ValueError(
            f"upstreams: need exactly {UPSTREAM_NAMES}, got {sorted(settings.upstreams)}"
        )
    values: dict[str, str] = {
        "http_port": str(_port(settings.http_port, "http_port")),
        "admin_port": str(_port(settings.admin_port, "admin_port")),
        # JSON strings are valid YAML scalars: safe for any path or host name.
        "descriptor_path": json.dumps(str(settings.descriptor_path.resolve())),
        "rate_limit_tokens": str(_positive(settings.rate_limit_tokens, "rate_limit_tokens")),
        "rate_limit_fill_per_second": str(
            _positive(settings.rate_limit_fill_per_second, "rate_limit_fill_per_second")
        ),
        "ip_rate_limit_tokens": str(
            _positive(settings.ip_rate_limit_tokens, "ip_rate_limit_tokens")
        ),
        "ip_rate_limit_fill_per_second": str(
            _positive(settings.ip_rate_limit_fill_per_second, "ip_rate_limit_fill_per_second")
        ),
        "max_ip_buckets": str(_positive(settings.max_ip_buckets, "max_ip_buckets")),
        "xff_trusted_hops": str(_non_negative(settings.xff_trusted_hops, "xff_trusted_hops")),
        "max_request_bytes": str(_positive(settings.max_request_bytes, "max_request_bytes")),
        "route_timeout": _duration(settings.route_timeout_seconds),
        "route_timeout_grpc": json.dumps(f"{math.ceil(settings.route_timeout_seconds * 1000)}m"),
        "openapi_path": json.dumps(str(settings.openapi_path.resolve())),
        # A JSON string is a valid YAML scalar, whatever the script holds.
        "request_checks_lua": json.dumps(render_request_checks(settings.descriptor_path)),
        "max_direct_response_bytes": str(
            _positive(settings.max_direct_response_bytes, "max_direct_response_bytes")
        ),
    }
    unknown = set(settings.extra_endpoints) - set(UPSTREAM_NAMES)
    if unknown:
        raise ValueError(f"extra_endpoints: unknown upstreams {sorted(unknown)}")
    for name in UPSTREAM_NAMES:
        addresses = [settings.upstreams[name], *settings.extra_endpoints.get(name, ())]
        values[f"{name}_endpoints"] = _endpoints(name, addresses)
    template = string.Template(TEMPLATE_PATH.read_text(encoding="utf-8"))
    return template.substitute(values)


def _upstream(text: str) -> tuple[str, tuple[str, int]]:
    name, sep, address = text.partition("=")
    host, colon, port = address.rpartition(":")
    if not sep or not colon or name not in UPSTREAM_NAMES or not port.isdigit():
        raise argparse.ArgumentTypeError(
            f"expected NAME=HOST:PORT with NAME in {UPSTREAM_NAMES}: {text!r}"
        )
    return name, (host.strip("[]"), int(port))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gateway.envoy_config", description=__doc__)
    parser.add_argument("--http-port", type=int, required=True)
    parser.add_argument("--admin-port", type=int, required=True)
    parser.add_argument("--descriptor", type=pathlib.Path, required=True)
    parser.add_argument("--upstream", type=_upstream, action="append", required=True)
    defaults = GatewaySettings  # one source for every default: the dataclass's fields
    parser.add_argument("--rate-limit-tokens", type=int, default=defaults.rate_limit_tokens)
    parser.add_argument("--rate-limit-fill", type=int, default=defaults.rate_limit_fill_per_second)
    parser.add_argument("--ip-rate-limit-tokens", type=int, default=defaults.ip_rate_limit_tokens)
    parser.add_argument(
        "--ip-rate-limit-fill", type=int, default=defaults.ip_rate_limit_fill_per_second
    )
    parser.add_argument("--xff-trusted-hops", type=int, default=defaults.xff_trusted_hops)
    parser.add_argument("--max-request-bytes", type=int, default=defaults.max_request_bytes)
    parser.add_argument("--route-timeout", type=float, default=defaults.route_timeout_seconds)
    parser.add_argument("--out", type=pathlib.Path, required=True)
    args = parser.parse_args(argv)
    upstreams: dict[str, tuple[str, int]] = {}
    extra: dict[str, list[tuple[str, int]]] = {}
    for name, address in args.upstream:
        if name in upstreams:
            extra.setdefault(name, []).append(address)
        else:
            upstreams[name] = address
    settings = GatewaySettings(
        http_port=args.http_port,
        admin_port=args.admin_port,
        descriptor_path=args.descriptor,
        upstreams=upstreams,
        extra_endpoints=extra,
        rate_limit_tokens=args.rate_limit_tokens,
        rate_limit_fill_per_second=args.rate_limit_fill,
        ip_rate_limit_tokens=args.ip_rate_limit_tokens,
        ip_rate_limit_fill_per_second=args.ip_rate_limit_fill,
        xff_trusted_hops=args.xff_trusted_hops,
        max_request_bytes=args.max_request_bytes,
        route_timeout_seconds=args.route_timeout,
    )
    try:
        text = render_envoy_config(settings)
    except ValueError as exc:
        parser.error(str(exc))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
