"""The compose deployment checked offline (Docker cannot run in CI): docker-compose.yml, the
Dockerfile, deploy/ (Prometheus, Grafana, the Mongo init script, the entry point) against the code.

Run alone with scripts/check_deploy.sh. `envoy`-marked tests run the real Envoy binary on the
config the compose envoy service renders.
"""

from __future__ import annotations

import ast
import functools
import json
import os
import pathlib
import re
import shlex
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import yaml
from rq import Queue
from rq.registry import FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry

from gateway import envoy_config, healthcheck
from gateway.envoy_config import GatewaySettings, render_envoy_config
from gateway.processes import free_port, http_ok
from services.common.pipeline_jobs import PIPELINE_QUEUE

REPO = pathlib.Path(__file__).resolve().parents[2]
COMPOSE_PATH = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
DEPLOY = REPO / "deploy"
PROMETHEUS_PATH = DEPLOY / "prometheus" / "prometheus.yml"
GRAFANA = DEPLOY / "grafana"
DASHBOARD_PATH = GRAFANA / "dashboards" / "insight-tracker.json"
CONFIG_PY = REPO / "services" / "common" / "config.py"

# Settings compose already sets for code being written elsewhere (allowed although config.py does
# not read them yet). Drop an entry once services/common/config.py reads it.
PENDING_SETTINGS: dict[str, str] = {}
# Non-INSIGHT variables a Python service may be given.
OTHER_PYTHON_ENV = {"OMP_NUM_THREADS"}
# The values the deployment is specified with.
EXPECTED_ENV = {
    "insight": {"INSIGHT_MONGO_URI": "mongodb://mongo:27017/?replicaSet=rs0"},
    "graph": {"INSIGHT_NEO4J_URI": "bolt://neo4j:7687"},
}
COMMON_ENV = {"INSIGHT_REDIS_URL": "redis://redis:6379/0", "INSIGHT_BIND_HOST": "0.0.0.0"}
METRICS_PORT = 9100
# Processes that are RQ workers (no gRPC port): the pipeline's and the assistant's trainer.
RQ_WORKER_MODULES = {"services.worker.main", "services.assistant.trainer"}
# Envoy metrics the dashboard may use; the envoy-marked test confirms each against a live Envoy.
ENVOY_METRICS = {
    "envoy_http_downstream_rq_total",
    "envoy_http_downstream_rq_xx",
    "envoy_http_downstream_rq_time_bucket",
    "envoy_cluster_upstream_rq_xx",
    "envoy_cluster_upstream_rq_time_bucket",
    "envoy_cluster_membership_healthy",
    "envoy_http_local_rate_limit_rate_limited",
}
# Recorded only once an upstream answered, so the live Envoy below (no upstream) cannot show them;
# tests/e2e/test_observability_rest.py confirms them against the test stack's Envoy.
ENVOY_UPSTREAM_METRICS = {"envoy_cluster_upstream_rq_time_bucket"}
# redis_exporter's gauge for --check-single-keys (exporter/keys.go: "key_size", 0 when absent).
EXPORTER_METRICS = {"redis_key_size"}
PROMETHEUS_METRICS = {"up"}
PROMQL_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or"}
PROMQL_KEYWORDS |= {"unless", "bool", "offset", "inf", "nan"}


# ------------------------------------------------------------------------------------ loading


_VARIABLE = re.compile(
    r"\$\$|\$\{(?P<name>[A-Za-z_]\w*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}|\$(?P<bare>[A-Za-z_]\w*)"
)


def interpolate(text: str) -> str:
    """Compose's variable substitution as it happens with no variable set: every use must carry a
    default, so `docker compose up` needs no .env file."""

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        if match.group("op") in {":-", "-"}:
            return match.group("arg")
        raise AssertionError(f"compose variable without a default: {match.group(0)!r}")

    return _VARIABLE.sub(substitute, text)


def _interpolated(value: Any) -> Any:
    if isinstance(value, str):
        return interpolate(value)
    if isinstance(value, list):
        return [_interpolated(item) for item in value]
    if isinstance(value, dict):
        return {key: _interpolated(item) for key, item in value.items()}
    return value


def load_yaml(path: pathlib.Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@functools.cache
def compose() -> dict[str, Any]:
    """docker-compose.yml after interpolation (loaded once; tests must not modify it)."""
    loaded = _interpolated(load_yaml(COMPOSE_PATH))
    assert isinstance(loaded, dict)
    return loaded


def services() -> dict[str, dict[str, Any]]:
    found = compose()["services"]
    assert isinstance(found, dict)
    return found


def _setting_calls() -> Iterator[tuple[str, ast.expr | None]]:
    """(variable, default expression) for every INSIGHT_* name config.py reads."""
    for node in ast.walk(ast.parse(CONFIG_PY.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and re.fullmatch(r"INSIGHT_[A-Z0-9_]+", node.value)
        ):
            yield node.value, None
        if isinstance(node, ast.Call) and len(node.args) == 2:
            name, default = node.args
            if isinstance(name, ast.Constant) and isinstance(name.value, str):
                yield name.value, default


def known_settings() -> set[str]:
    return {name for name, _ in _setting_calls()}


def default_port(variable: str) -> int:
    for name, default in _setting_calls():
        if name == variable and isinstance(default, ast.Constant):
            assert isinstance(default.value, int)
            return default.value
    raise AssertionError(f"{variable} has no integer default in {CONFIG_PY.name}")


@dataclass(frozen=True)
class PythonService:
    """A compose service running the project's image: a gRPC server, the worker or Envoy."""

    name: str
    definition: dict[str, Any]

    @property
    def command(self) -> list[str]:
        command = self.definition["command"]
        assert isinstance(command, list) and all(isinstance(part, str) for part in command)
        return command

    @property
    def module(self) -> str:
        command = self.command
        return command[command.index("-m") + 1] if command[:2] == ["python", "-m"] else ""

    @property
    def environment(self) -> dict[str, str]:
        env = self.definition.get("environment", {})
        assert isinstance(env, dict), f"{self.name}: environment must be a mapping"
        return {str(key): str(value) for key, value in env.items()}

    @property
    def is_grpc_server(self) -> bool:
        return self.module.startswith("services.") and self.module.endswith(".server")

    def port(self) -> int:
        """The gRPC port this server listens on (its INSIGHT_<NAME>_PORT, else config's default)."""
        variable = f"INSIGHT_{self.module.split('.')[1].upper()}_PORT"
        return int(self.environment.get(variable) or default_port(variable))


def python_services() -> dict[str, PythonService]:
    return {
        name: PythonService(name, definition)
        for name, definition in services().items()
        if "build" in definition
    }


def envoy_command() -> tuple[list[str], list[str]]:
    """The envoy service's command: the gateway.envoy_config arguments and Envoy's own."""
    command = python_services()["envoy"].command
    assert command[:2] == ["sh", "-c"] and len(command) == 3
    render, separator, run = command[2].partition("&&")
    assert separator, "render the config, then && exec envoy"
    render_argv, run_argv = shlex.split(render), shlex.split(run)
    assert render_argv[:3] == ["python", "-m", "gateway.envoy_config"]
    assert run_argv[:2] == ["exec", "envoy"]
    return render_argv[3:], run_argv[2:]


def option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def envoy_upstreams() -> dict[str, tuple[str, int]]:
    render_argv, _ = envoy_command()
    upstreams: dict[str, tuple[str, int]] = {}
    for index, part in enumerate(render_argv):
        if part == "--upstream":
            name, (host, port) = envoy_config._upstream(render_argv[index + 1])
            upstreams[name] = (host, port)
    return upstreams


def envoy_admin_port() -> int:
    render_argv, run_argv = envoy_command()
    port = int(option(render_argv, "--admin-port"))
    override = yaml.safe_load(option(run_argv, "--config-yaml"))
    socket_address = override["admin"]["address"]["socket_address"]
    assert socket_address["port_value"] == port, "--config-yaml must keep the admin port"
    return port


# ------------------------------------------------------------------------------------ compose


def test_every_service_has_an_image_and_known_references() -> None:
    spec = compose()
    declared_secrets = set(spec.get("secrets", {}))
    declared_volumes = set(spec.get("volumes", {}))
    for name, service in spec["services"].items():
        assert "image" in service or "build" in service, f"{name}: needs an image or a build"
        assert "container_name" not in service, f"{name}: container_name prevents replicas"
        for dependency in service.get("depends_on", {}):
            assert dependency in spec["services"], f"{name}: depends on unknown {dependency}"
        for secret in service.get("secrets", []):
            assert secret in declared_secrets, f"{name}: secret {secret} is not declared"
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("."):
                assert (REPO / source).exists(), f"{name}: mounts missing {source}"
            else:
                assert source in declared_volumes, f"{name}: volume {source} is not declared"
        if "image" in service and "build" not in service:
            assert re.fullmatch(r"[\w./-]+:[\w.-]+", service["image"]), f"{name}: pin a tag"
            assert not service["image"].endswith(":latest"), f"{name}: pin a version"


def test_python_services_run_modules_that_exist() -> None:
    found = python_services()
    assert set(found) >= {"envoy", "insight", "graph", "nlp", "assistant", "worker"}
    for service in found.values():
        build = service.definition["build"]
        assert (REPO / build["context"] / build["dockerfile"]).resolve() == DOCKERFILE
        if not service.module:
            continue
        path = REPO / (service.module.replace(".", "/") + ".py")
        assert path.exists(), f"{service.name}: {service.module} does not exist"


def test_environment_names_only_known_settings() -> None:
    known = known_settings() | set(PENDING_SETTINGS)
    for service in python_services().values():
        for variable in service.environment:
            if variable.startswith("INSIGHT_"):
                assert variable in known, f"{service.name}: {variable} is not a setting"
            else:
                assert variable in OTHER_PYTHON_ENV, f"{service.name}: unexpected {variable}"
    for variable in re.findall(r"\b(INSIGHT_[A-Z0-9_]+)=", DOCKERFILE.read_text()):
        assert variable in known_settings(), f"Dockerfile: {variable} is not a setting"


def test_environment_has_the_specified_values() -> None:
    found = python_services()
    for name, expected in EXPECTED_ENV.items():
        for variable, value in expected.items():
            assert found[name].environment.get(variable) == value, f"{name}: {variable}"
    for service in found.values():
        if service.module.startswith("services."):
            for variable, value in COMMON_ENV.items():
                assert service.environment.get(variable) == value, f"{service.name}: {variable}"
        if service.is_grpc_server:
            metrics = service.environment.get("INSIGHT_METRICS_PORT")
            assert metrics == str(METRICS_PORT), f"{service.name}: INSIGHT_METRICS_PORT"


def test_addresses_point_at_the_services_ports() -> None:
    found = python_services()
    for service in found.values():
        for variable, address in service.environment.items():
            match = re.fullmatch(r"INSIGHT_([A-Z]+)_ADDRESS", variable)
            if not match:
                continue
            host, _, port = address.rpartition(":")
            target = found.get(host)
            assert target is not None, f"{service.name}: {variable} names no service: {host}"
            assert target.module == f"services.{match.group(1).lower()}.server", variable
            assert int(port) == target.port(), f"{service.name}: {variable} port != {host}'s"


def test_health_checks_probe_each_servers_own_port() -> None:
    for service in python_services().values():
        test = service.definition["healthcheck"]["test"]
        assert test[:4] == ["CMD", "python", "-m", "gateway.healthcheck"], service.name
        target = test[4:]
        if service.is_grpc_server:
            assert target == [f"127.0.0.1:{service.port()}"], service.name
        elif service.module in RQ_WORKER_MODULES:
            assert target == [healthcheck.RQ_WORKER], service.name
        else:
            assert target == [f"http://127.0.0.1:{envoy_admin_port()}/ready"]


def test_workers_are_replicas_and_scalable_services_publish_no_ports() -> None:
    found = services()
    assert found["worker"]["deploy"]["replicas"] >= 2
    for name, service in found.items():
        for published in service.get("ports", []):
            host_part = str(published).rsplit(":", 1)[0]
            # Only Envoy faces the world; tools listen on the host's loopback.
            assert name == "envoy" or host_part.startswith("127.0.0.1:"), f"{name}: {published}"


def test_secrets_are_files_kept_out_of_git_with_examples() -> None:
    spec = compose()
    ignore = (DEPLOY / "secrets" / ".gitignore").read_text().splitlines()
    assert "*" in ignore and "!*.example" in ignore
    for name, secret in spec["secrets"].items():
        path = (REPO / secret["file"]).resolve()
        assert path.parent == DEPLOY / "secrets", f"secret {name} must live in deploy/secrets"
        example = path.with_name(path.name + ".example")
        assert example.exists(), f"secret {name}: add {example.name}"
        assert "REPLACE-ME" in example.read_text(), f"{example.name}: needs the placeholder"
    known = known_settings()
    for service in python_services().values():
        mounted = set(service.definition.get("secrets", []))
        for secret in mounted:
            # The entry point exports /run/secrets/insight_<name> as INSIGHT_<NAME>.
            assert secret.upper() in known, f"{service.name}: {secret} maps to no setting"
        if service.module.startswith("services."):
            assert "insight_jwt_secret" in mounted, f"{service.name}: needs the JWT secret"


def test_mongo_is_a_replica_set_initiated_once() -> None:
    found = services()
    command = found["mongo"]["command"]
    replica_set = option(command, "--replSet")
    uri = python_services()["insight"].environment["INSIGHT_MONGO_URI"]
    assert f"replicaSet={replica_set}" in uri
    init = found["mongo-init"]
    assert init["depends_on"]["mongo"]["condition"] == "service_healthy"
    assert init["restart"] == "no"
    script_mount = next(v for v in init["volumes"] if v.endswith(".js:ro") or v.endswith(".js"))
    source, target = script_mount.split(":")[:2]
    assert target in init["command"]
    script = (REPO / source).read_text()
    assert f'_id: "{replica_set}"' in script and 'host: "mongo:27017"' in script
    assert "NotYetInitialized" in script and "isWritablePrimary" in script
    condition = found["insight"]["depends_on"]["mongo-init"]["condition"]
    assert condition == "service_completed_successfully"


def test_redis_keeps_an_append_only_file_and_never_evicts() -> None:
    command = services()["redis"]["command"]
    assert option(command, "--appendonly") == "yes"
    assert option(command, "--maxmemory-policy") == "noeviction"


def test_redis_exporter_watches_the_pipeline_queue_keys() -> None:
    keys = services()["redis-exporter"]["environment"]["REDIS_EXPORTER_CHECK_SINGLE_KEYS"]
    watched = {item.partition("=")[2] for item in keys.split(",")}
    expected = {
        Queue.redis_queue_namespace_prefix + PIPELINE_QUEUE,
        StartedJobRegistry.key_template.format(PIPELINE_QUEUE),
        ScheduledJobRegistry.key_template.format(PIPELINE_QUEUE),
        FailedJobRegistry.key_template.format(PIPELINE_QUEUE),
    }
    assert watched == expected


# ------------------------------------------------------------------------------------ image


def _dockerignore_allows(path: str) -> bool:
    allowed = [
        line[1:].rstrip("/")
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.startswith("!")
    ]
    return path.rstrip("/") in allowed


def test_dockerfile_builds_the_python_image_as_specified() -> None:
    text = DOCKERFILE.read_text()
    assert re.findall(r"^FROM (\S+)", text, re.MULTILINE) == ["python:3.11-slim"] * 2
    assert "pip install -r /tmp/requirements.txt" in text
    assert "HF_HUB_OFFLINE=1" in text
    copied = re.findall(r"^COPY (?:--chmod=\S+ )?(\S+) \S+$", text, re.MULTILINE)
    for needed in ["requirements.txt", "envoy.yaml", "generated/", "gateway/", "services/"]:
        assert needed in copied, f"Dockerfile must copy {needed}"
    for source in copied:
        assert (REPO / source).exists(), f"Dockerfile copies missing {source}"
        assert _dockerignore_allows(source), f".dockerignore excludes {source}"
    entrypoint = re.search(r'^ENTRYPOINT \["(\S+)"\]', text, re.MULTILINE)
    assert entrypoint and f"/usr/local/bin/{entrypoint.group(1)}" in text
    assert re.search(r"^USER app$", text, re.MULTILINE), "run as an unprivileged user"


def _run_entrypoint(
    tmp_path: pathlib.Path, secrets: dict[str, str], env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    secrets_dir = tmp_path / "secrets"
    secrets_dir.mkdir(exist_ok=True)
    for name, value in secrets.items():
        (secrets_dir / name).write_text(value + "\n")
    return subprocess.run(
        ["sh", str(DEPLOY / "docker-entrypoint.sh"), "env"],
        env={"PATH": os.environ["PATH"], "SECRETS_DIR": str(secrets_dir), **(env or {})},
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )


def test_entrypoint_exports_insight_secrets(tmp_path: pathlib.Path) -> None:
    done = _run_entrypoint(tmp_path, {"insight_jwt_secret": "s" * 40, "neo4j_auth": "neo4j/x"})
    assert done.returncode == 0, done.stderr
    assert f"INSIGHT_JWT_SECRET={'s' * 40}" in done.stdout.splitlines()
    assert "neo4j" not in done.stdout.lower()


def test_entrypoint_keeps_a_variable_already_set(tmp_path: pathlib.Path) -> None:
    done = _run_entrypoint(
        tmp_path, {"insight_jwt_secret": "s" * 40}, {"INSIGHT_JWT_SECRET": "e" * 40}
    )
    assert f"INSIGHT_JWT_SECRET={'e' * 40}" in done.stdout.splitlines()


def test_entrypoint_refuses_the_placeholder(tmp_path: pathlib.Path) -> None:
    example = (DEPLOY / "secrets" / "insight_jwt_secret.example").read_text().strip()
    done = _run_entrypoint(tmp_path, {"insight_jwt_secret": example})
    assert done.returncode == 64
    assert "placeholder" in done.stderr


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


def prometheus_config() -> dict[str, Any]:
    loaded = load_yaml(PROMETHEUS_PATH)
    assert isinstance(loaded, dict)
    return loaded


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


def scrape_targets() -> dict[str, tuple[str, int, str]]:
    """host -> (job, port, metrics path) for every target Prometheus scrapes."""
    found: dict[str, tuple[str, int, str]] = {}
    for job in prometheus_config()["scrape_configs"]:
        path = job.get("metrics_path", "/metrics")
        for sd in job.get("dns_sd_configs", []):
            for name in sd["names"]:
                found[name] = (job["job_name"], sd["port"], path)
        for static in job.get("static_configs", []):
            for target in static["targets"]:
                host, port = target.rsplit(":", 1)
                found[host] = (job["job_name"], int(port), path)
    return found


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


def promql_metrics(expr: str) -> set[str]:
    """Metric names in a PromQL expression (or a Grafana label_values() query)."""
    stripped = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    stripped = re.sub(r"\{[^}]*\}|\[[^\]]*\]", " ", stripped)
    stripped = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", " ", stripped)
    stripped = re.sub(r"label_values\(\s*([\w:]+)\s*,[^)]*\)", r" \1 ", stripped)
    names = set()
    for match in re.finditer(r"(?<![\w$.])([A-Za-z_:][\w:]*)\s*(\()?", stripped):
        if match.group(2) is None and match.group(1).lower() not in PROMQL_KEYWORDS:
            names.add(match.group(1))
    return names


def test_promql_metric_extraction() -> None:
    expr = (
        'histogram_quantile(0.95, sum by (le, grpc_method) (rate(a_bucket{x="y"}[$__rate_interval'
        "]))) / sum(rate(b_total[5m])) or vector(0)"
    )
    assert promql_metrics(expr) == {"a_bucket", "b_total"}
    assert promql_metrics("label_values(c_total, grpc_service)") == {"c_total"}


def dashboard() -> dict[str, Any]:
    loaded = json.loads(DASHBOARD_PATH.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


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
