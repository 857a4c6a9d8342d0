"""Rendering of the Envoy gateway config; `envoy`-marked tests run `envoy --mode validate` on it."""

from __future__ import annotations

import json
import pathlib
import shutil
import subprocess
import sys

import pytest

from gateway.envoy_config import GatewaySettings, main, render_envoy_config

REPO = pathlib.Path(__file__).resolve().parents[2]
DESCRIPTOR = REPO / "generated" / "descriptor.binpb"
PUBLIC_SERVICES = {
    "insighttracker.auth.v1.AuthService": "insight",
    "insighttracker.insight.v1.InsightService": "insight",
    "insighttracker.graph.v1.GraphService": "graph",
    "insighttracker.assistant.v1.AssistantService": "assistant",
}
INTERNAL_SERVICES = ("InsightInternalService", "GraphInternalService", "NlpService")


def settings(**overrides: object) -> GatewaySettings:
    values: dict[str, object] = {
        "http_port": 18080,
        "admin_port": 19901,
        "descriptor_path": DESCRIPTOR,
        "upstreams": {
            "insight": ("127.0.0.1", 50051),
            "graph": ("graph.internal", 50052),
            "assistant": ("127.0.0.1", 50053),
        },
    }
    values.update(overrides)
    return GatewaySettings(**values)  # type: ignore[arg-type]


def envoy_binary() -> str | None:
    local = pathlib.Path(sys.executable).parent / "envoy"
    return str(local) if local.exists() else shutil.which("envoy")


def test_placeholders_are_all_filled() -> None:
    text = render_envoy_config(settings())
    assert "${" not in text
    assert "port_value: 18080" in text
    assert "address: 127.0.0.1, port_value: 19901" in text  # admin stays on loopback
    assert f"proto_descriptor: {json.dumps(str(DESCRIPTOR))}" in text
    assert 'address: "graph.internal", port_value: 50052' in text
    assert "max_request_bytes: 26279936" in text
    assert "max_tokens: 200" in text and "tokens_per_fill: 100" in text
    assert 'timeout: "30.000s"' in text


def test_public_services_routed_internal_never() -> None:
    text = render_envoy_config(settings())
    for service, cluster in PUBLIC_SERVICES.items():
        assert f'- match: {{ prefix: "/{service}/" }}\n' in text
        assert f"- {service}\n" in text  # transcoded
        route_line = text.split(f'prefix: "/{service}/" }}\n', 1)[1].splitlines()[0]
        assert f"cluster: {cluster}," in route_line
    config_lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    for internal in INTERNAL_SERVICES:
        assert not [line for line in config_lines if internal in line]


def test_the_lua_checks_are_off_on_the_hot_read_only() -> None:
    """The strict JSON checks run on bodies and query strings; GET /insights/{id} never meets
    them, neither before transcoding (a read without a query string) nor after (its route)."""
    text = render_envoy_config(settings())
    assert text.count("disabled: true") == 4  # the two just named, the OpenAPI page, transcoder's
    get_insight = text.split('path: "/insighttracker.insight.v1.InsightService/GetInsight"', 1)[1]
    assert get_insight.split("- match:", 1)[0].count("LuaPerRoute") == 1
    assert "default_source_code: { inline_string: " in text
    assert "local SCHEMA = " in text and "function envoy_on_request" in text


def test_settings_are_rendered() -> None:
    text = render_envoy_config(
        settings(
            http_port=1,
            admin_port=65535,
            rate_limit_tokens=7,
            rate_limit_fill_per_second=3,
            max_request_bytes=1234,
            route_timeout_seconds=2.5,
        )
    )
    assert "port_value: 1 }" in text and "port_value: 65535 }" in text
    assert "max_tokens: 7" in text and "tokens_per_fill: 3" in text
    assert "max_request_bytes: 1234" in text and "max_request_body_size: 1234" in text
    assert 'timeout: "2.500s"' in text
    # Services get the route timeout as their gRPC deadline; a client's longer one is cut to it.
    assert 'value: "2500m" }' in text
    # One route per public service, and GetInsight's own (no Lua filter on the hot read).
    assert text.count('grpc_timeout_header_max: "2.500s"') == len(PUBLIC_SERVICES) + 1


def test_per_ip_limit_is_rendered() -> None:
    text = render_envoy_config(
        settings(ip_rate_limit_tokens=9, ip_rate_limit_fill_per_second=4, xff_trusted_hops=2)
    )
    # The dynamic descriptor: an entry without a value gets a bucket per remote address.
    assert "entries: [{ key: remote_address }]" in text
    assert "actions: [{ remote_address: {} }]" in text
    assert "max_tokens: 9" in text and "tokens_per_fill: 4" in text
    assert "use_remote_address: true" in text and "xff_num_trusted_hops: 2" in text


@pytest.mark.parametrize(
    "overrides",
    [
        {"http_port": 0},
        {"admin_port": 70000},
        {"rate_limit_tokens": 0},
        {"ip_rate_limit_tokens": 0},
        {"ip_rate_limit_fill_per_second": -1},
        {"xff_trusted_hops": -1},
        {"max_request_bytes": -1},
        {"route_timeout_seconds": 0.0},
        {"upstreams": {"insight": ("127.0.0.1", 1), "graph": ("127.0.0.1", 2)}},
        {"upstreams": {"insight": ("", 1), "graph": ("h", 2), "assistant": ("h", 3)}},
    ],
)
def test_bad_settings_are_rejected(overrides: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        render_envoy_config(settings(**overrides))


def test_cli_writes_the_config(tmp_path: pathlib.Path) -> None:
    out = tmp_path / "conf" / "envoy.yaml"
    argv = ["--http-port", "8081", "--admin-port", "9902", "--descriptor", str(DESCRIPTOR)]
    for name, port in (("insight", 1), ("graph", 2), ("assistant", 3)):
        argv += ["--upstream", f"{name}=localhost:{port}"]
    argv += ["--rate-limit-tokens", "5", "--rate-limit-fill", "2", "--out", str(out)]
    assert main(argv) == 0
    text = out.read_text(encoding="utf-8")
    assert 'address: "localhost", port_value: 3' in text
    assert "max_tokens: 5" in text and "tokens_per_fill: 2" in text


def test_cli_rejects_unknown_upstream(tmp_path: pathlib.Path) -> None:
    with pytest.raises(SystemExit):
        main(
            [
                "--http-port",
                "1",
                "--admin-port",
                "2",
                "--descriptor",
                "d",
                "--upstream",
                "nlp=h:1",
                "--out",
                str(tmp_path / "x"),
            ]
        )


@pytest.mark.envoy
@pytest.mark.parametrize("ports", [(18080, 19901), (1024, 65535)])
def test_envoy_validates_rendered_config(tmp_path: pathlib.Path, ports: tuple[int, int]) -> None:
    envoy = envoy_binary()
    if envoy is None:
        pytest.skip("envoy binary not found")
    config = tmp_path / "envoy.yaml"
    config.write_text(
        render_envoy_config(settings(http_port=ports[0], admin_port=ports[1])), encoding="utf-8"
    )
    result = subprocess.run(
        [envoy, "--mode", "validate", "-c", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "OK" in result.stdout + result.stderr


def test_replicas_are_separate_endpoints_of_one_cluster() -> None:
    text = render_envoy_config(
        settings(extra_endpoints={"insight": [("127.0.0.1", 50061), ("10.0.0.2", 50062)]})
    )
    insight = text.split("cluster_name: insight", 1)[1].split("- name: graph", 1)[0]
    ports = ["port_value: 50051", "port_value: 50061", "port_value: 50062"]
    assert all(port in insight for port in ports)
    assert insight.count("endpoint: {") == 3
    assert 'address: "10.0.0.2", port_value: 50062' in insight


def test_bad_extra_endpoints_are_rejected() -> None:
    with pytest.raises(ValueError):
        render_envoy_config(settings(extra_endpoints={"nlp": [("h", 1)]}))
    with pytest.raises(ValueError):
        render_envoy_config(settings(extra_endpoints={"insight": [("h", 0)]}))


def test_cli_repeated_upstream_adds_replicas(tmp_path: pathlib.Path) -> None:
    out = tmp_path / "envoy.yaml"
    argv = ["--http-port", "8081", "--admin-port", "9902", "--descriptor", str(DESCRIPTOR)]
    for name, port in (("insight", 1), ("insight", 4), ("graph", 2), ("assistant", 3)):
        argv += ["--upstream", f"{name}=localhost:{port}"]
    assert main([*argv, "--out", str(out)]) == 0
    insight = out.read_text().split("cluster_name: insight", 1)[1].split("- name: graph", 1)[0]
    assert "port_value: 1 }" in insight and "port_value: 4 }" in insight


@pytest.mark.envoy
def test_envoy_validates_replicas(tmp_path: pathlib.Path) -> None:
    envoy = envoy_binary()
    if envoy is None:
        pytest.skip("envoy binary not found")
    config = tmp_path / "envoy.yaml"
    extra = {"insight": [("127.0.0.1", 50061), ("127.0.0.1", 50062)]}
    config.write_text(render_envoy_config(settings(extra_endpoints=extra)), encoding="utf-8")
    result = subprocess.run(
        [envoy, "--mode", "validate", "-c", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
