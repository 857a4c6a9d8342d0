"""What the deployment checks share: where the compose deployment's files are, the values it is
specified with, and loaders for docker-compose.yml (interpolated as Compose does), the Python
services it runs and the Envoy it renders."""

from __future__ import annotations

import ast
import functools
import json
import pathlib
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml

from gateway import envoy_config

REPO = pathlib.Path(__file__).resolve().parents[3]
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


def prometheus_config() -> dict[str, Any]:
    loaded = load_yaml(PROMETHEUS_PATH)
    assert isinstance(loaded, dict)
    return loaded


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


def dashboard() -> dict[str, Any]:
    loaded = json.loads(DASHBOARD_PATH.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded
