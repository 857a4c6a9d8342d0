"""The compose deployment's gateway and monitoring checked offline: the Envoy the compose envoy
service renders (`envoy`-marked tests run the real binary on it), Prometheus's scrape targets,
the Grafana dashboard and the health check. Run alone with scripts/check_deploy.sh.
"""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys
import time
import urllib.request

import httpx
import pytest

from gateway import envoy_config, healthcheck
from gateway.envoy_config import GatewaySettings, render_envoy_config
from gateway.processes import free_port, http_ok
from tests.unit.deploy.model import (
    ENVOY_METRICS,
    ENVOY_UPSTREAM_METRICS,
    GRAFANA,
    REPO,
    dashboard,
    envoy_admin_port,
    envoy_command,
    envoy_upstreams,
    load_yaml,
    option,
    prometheus_config,
    promql_metrics,
    python_services,
    scrape_targets,
    services,
)

# ------------------------------------------------------------------------------------ envoy


def test_envoy_routes_to_compose_services() -> None:
    found = python_services()
    upstreams = envoy_upstreams()
    assert set(upstreams) == set(envoy_config.UPSTREAM_NAMES)
    for name, (host, port) in upstreams.items():
        target = found[host]
        assert target.is_grpc_server and port == target.port(), f"upstream {name}"
    assert upstreams["assistant"][0] == "assistant"
    render_argv, _ = envoy_command()
    assert (REPO / option(render_argv, "--descriptor")).exists()
    published = services()["envoy"]["ports"]
    assert [str(p).rsplit(":", 1)[1] for p in published] == [option(render_argv, "--http-port")]


def render_compose_envoy(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Renders the config exactly as the envoy service does; returns Envoy's arguments for it."""
    render_argv, run_argv = envoy_command()
    out = tmp_path / "envoy.yaml"
    render_argv[render_argv.index("--out") + 1] = str(out)
    monkeypatch.chdir(REPO)  # the descriptor path is relative to the image's WORKDIR (/app)
    assert envoy_config.main(render_argv) == 0
    run_argv[run_argv.index("-c") + 1] = str(out)
    return run_argv


def envoy_binary() -> str:
    local = pathlib.Path(sys.executable).parent / "envoy"
    return str(local) if local.exists() else "envoy"


@pytest.mark.envoy
def test_compose_envoy_config_validates(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    argv = render_compose_envoy(tmp_path, monkeypatch)
    done = subprocess.run(
        [envoy_binary(), "--mode", "validate", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.envoy
def test_dashboard_envoy_metrics_exist_in_a_live_envoy(tmp_path: pathlib.Path) -> None:
    admin_port, http_port = free_port(), free_port()
    config = tmp_path / "envoy.yaml"
    config.write_text(
        render_envoy_config(
            GatewaySettings(
                http_port=http_port,
                admin_port=admin_port,
                descriptor_path=REPO / "generated" / "descriptor.binpb",
                upstreams=envoy_upstreams(),  # compose names: unresolvable here, which is fine
            )
        )
    )
    with subprocess.Popen(
        [envoy_binary(), "-c", str(config), "--base-id", str(admin_port), "-l", "error"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    ) as envoy:
        try:
            deadline = time.monotonic() + 30
            while not http_ok(f"http://127.0.0.1:{admin_port}/ready"):
                assert envoy.poll() is None and time.monotonic() < deadline, "envoy did not start"
                time.sleep(0.1)
            # One routed request (503: no upstream here) so per-cluster counters exist.
            routed = httpx.get(f"http://127.0.0.1:{http_port}/insights", timeout=5)
            assert routed.status_code == 503
            url = f"http://127.0.0.1:{admin_port}/stats/prometheus"
            with urllib.request.urlopen(url, timeout=5) as reply:
                exported = reply.read().decode()
        finally:
            envoy.terminate()
            envoy.wait(10)
    names = {line.split("{")[0].split(" ")[0] for line in exported.splitlines() if line[:1] != "#"}
    expected = ENVOY_METRICS - ENVOY_UPSTREAM_METRICS
    assert names >= expected, sorted(expected - names)


# ------------------------------------------------------------------------------------ prometheus

_DURATION = re.compile(r"^(\d+y)?(\d+w)?(\d+d)?(\d+h)?(\d+m)?(\d+s)?(\d+ms)?$")
_TOP_KEYS = {"global", "scrape_configs", "rule_files", "alerting", "remote_write", "remote_read"}
_GLOBAL_KEYS = {"scrape_interval", "scrape_timeout", "evaluation_interval", "external_labels"}
_SCRAPE_KEYS = {
    "job_name",
    "scrape_interval",
    "scrape_timeout",
    "metrics_path",
    "scheme",
    "params",
    "honor_labels",
    "static_configs",
    "dns_sd_configs",
    "relabel_configs",
    "metric_relabel_configs",
}
_DNS_SD_KEYS = {"names", "type", "port", "refresh_interval"}
_STATIC_KEYS = {"targets", "labels"}


def _seconds(duration: str) -> float:
    assert duration and _DURATION.match(duration), f"not a Prometheus duration: {duration!r}"
    units = {"y": 31536000, "w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1, "ms": 0.001}
    return sum(int(n) * units[u] for n, u in re.findall(r"(\d+)(ms|[ywdhms])", duration))


def test_prometheus_config_structure() -> None:
    """What promtool's `check config` would catch for the keys used here (promtool is not built
    in CI: compiling it takes minutes)."""
    config = prometheus_config()
    assert set(config) <= _TOP_KEYS, set(config) - _TOP_KEYS
    global_ = config["global"]
    assert set(global_) <= _GLOBAL_KEYS
    for key in ("scrape_interval", "scrape_timeout", "evaluation_interval"):
        _seconds(global_[key])
    assert _seconds(global_["scrape_timeout"]) <= _seconds(global_["scrape_interval"])
    jobs = [job["job_name"] for job in config["scrape_configs"]]
    assert len(jobs) == len(set(jobs)), "job names must be unique"
    for job in config["scrape_configs"]:
        assert set(job) <= _SCRAPE_KEYS, (job["job_name"], set(job) - _SCRAPE_KEYS)
        assert job.get("metrics_path", "/metrics").startswith("/")
        assert {"dns_sd_configs", "static_configs"} & set(job), job["job_name"]
        for sd in job.get("dns_sd_configs", []):
            assert set(sd) <= _DNS_SD_KEYS and sd["names"] and sd["type"] in {"A", "AAAA", "SRV"}
            assert sd["type"] == "SRV" or isinstance(sd["port"], int)
            _seconds(sd.get("refresh_interval", "30s"))
        for static in job.get("static_configs", []):
            assert set(static) <= _STATIC_KEYS
            for target in static["targets"]:
                assert re.fullmatch(r"[\w.-]+:\d+", target), target


def test_prometheus_scrapes_every_metrics_port() -> None:
    targets = scrape_targets()
    all_services = services()
    for host in targets:
        assert host == "localhost" or host in all_services, f"no compose service {host}"
    for service in python_services().values():
        port = service.environment.get("INSIGHT_METRICS_PORT")
        if port:
            assert service.name in targets, f"{service.name} exports metrics, nobody scrapes"
            assert targets[service.name][1:] == (int(port), "/metrics"), service.name
    assert targets["envoy"][1:] == (envoy_admin_port(), "/stats/prometheus")
    assert "redis-exporter" in targets


# ------------------------------------------------------------------------------------ grafana


def test_promql_metric_extraction() -> None:
    expr = (
        'histogram_quantile(0.95, sum by (le, grpc_method) (rate(a_bucket{x="y"}[$__rate_interval'
        "]))) / sum(rate(b_total[5m])) or vector(0)"
    )
    assert promql_metrics(expr) == {"a_bucket", "b_total"}
    assert promql_metrics("label_values(c_total, grpc_service)") == {"c_total"}


def test_dashboard_shape() -> None:
    board = dashboard()
    assert board["uid"] and board["title"]
    ids = [panel["id"] for panel in board["panels"]]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    variables = {v["name"] for v in board["templating"]["list"]}
    for panel in board["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        if panel["type"] == "row":
            continue
        assert panel["targets"], panel["title"]
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        for target in panel["targets"]:
            for variable in re.findall(r"\$(?!__)(\w+)", target["expr"]):
                assert variable in variables, f"{panel['title']}: ${variable} undefined"


def test_grafana_provisioning_matches_compose() -> None:
    grafana = services()["grafana"]
    mounts = dict(v.split(":")[:2] for v in grafana["volumes"] if v.startswith("./"))
    assert mounts["./deploy/grafana/provisioning"] == "/etc/grafana/provisioning"
    datasources = load_yaml(GRAFANA / "provisioning" / "datasources" / "prometheus.yml")
    assert datasources["apiVersion"] == 1
    (source,) = datasources["datasources"]
    assert source["type"] == "prometheus" and source["isDefault"]
    assert source["url"] == "http://prometheus:9090" and "prometheus" in services()
    assert any(str(p).endswith(":9090") for p in services()["prometheus"]["ports"])
    providers = load_yaml(GRAFANA / "provisioning" / "dashboards" / "insight-tracker.yml")
    (provider,) = providers["providers"]
    assert provider["type"] == "file"
    assert mounts["./deploy/grafana/dashboards"] == provider["options"]["path"]
    default_current = next(
        v for v in dashboard()["templating"]["list"] if v["name"] == "datasource"
    )["current"]
    assert default_current["value"] == source["uid"]


# ------------------------------------------------------------------------------------ healthcheck


def test_healthcheck_rejects_bad_targets() -> None:
    for argv in ([], ["nowhere"], ["host:port"], ["a:1", "b", "c"], ["rq-worker", "x"]):
        with pytest.raises(ValueError):
            healthcheck.check(argv)
    assert healthcheck.main([]) == 1


def test_healthcheck_reports_unreachable_targets_unhealthy() -> None:
    port = free_port()
    assert healthcheck.main([f"127.0.0.1:{port}"]) == 1
    assert healthcheck.main([f"http://127.0.0.1:{port}/ready"]) == 1
    assert not healthcheck.rq_worker_registered(f"redis://127.0.0.1:{port}/0", "host")
