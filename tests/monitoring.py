"""Prometheus and redis_exporter for tests, from Debian's packages (scripts/install_debian_tools.sh
installs them in `make test`), started on free loopback ports by the harness and stopped after.

The scrape configuration is deploy/prometheus/prometheus.yml's own — its job names and metrics
paths — with each job's service discovery (Docker's DNS in compose) replaced by the address of
this machine's process, so the dashboard is tested against the jobs it will really see.
"""

from __future__ import annotations

import pathlib
import shutil
import subprocess
from collections.abc import Mapping
from typing import Any

import httpx
import pytest
import yaml

from gateway.processes import ManagedProcess, free_port, http_ok

START_TIMEOUT_SECONDS = 30.0


def debian_command(name: str) -> str:
    """The path of a command the Debian tools provide; a missing one fails the test (make test
    installs them) and says how to get it."""
    found = shutil.which(name)
    if found is None:
        pytest.fail(
            f"{name} not found: run `make tools` as root (scripts/install_debian_tools.sh) or "
            "apt-get install --no-install-recommends prometheus prometheus-redis-exporter",
            pytrace=False,
        )
    return found


def promtool_check_config(path: pathlib.Path) -> None:
    """`promtool check config` on a file; its output in the failure when Prometheus refuses it."""
    checked = subprocess.run(
        [debian_command("promtool"), "check", "config", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def local_scrape_config(
    deployed: Mapping[str, Any], targets: Mapping[str, str], interval: str
) -> dict[str, Any]:
    """The deployed configuration's jobs, each scraping `targets[job]` every `interval`. Every job
    needs a target and every target a job: a job the test cannot aim is a job it would not test."""
    jobs = []
    for job in deployed["scrape_configs"]:
        name = job["job_name"]
        if name not in targets:
            raise KeyError(f"no local target for the deployed job {name!r}")
        # Only the discovery goes; relabelling and every other setting of the job stay.
        local = {k: v for k, v in job.items() if not _is_discovery(k)}
        local["static_configs"] = [{"targets": [targets[name]]}]
        jobs.append(local)
    unknown = set(targets) - {job["job_name"] for job in jobs}
    if unknown:
        raise KeyError(f"targets for jobs the deployment does not have: {sorted(unknown)}")
    timing = {"scrape_interval": interval, "scrape_timeout": interval}
    return {"global": {**timing, "evaluation_interval": interval}, "scrape_configs": jobs}


def _is_discovery(key: str) -> bool:
    """A scrape job's target list: static_configs or any *_sd_configs (not relabel_configs)."""
    return key == "static_configs" or key.endswith("_sd_configs")


def start_redis_exporter(
    tmp_dir: pathlib.Path, redis_url: str, single_keys: str
) -> tuple[ManagedProcess, str]:
    """redis_exporter reading `redis_url`, reporting `single_keys` (its -check-single-keys list);
    returns the process and its host:port once /metrics answers."""
    address = f"127.0.0.1:{free_port()}"
    process = ManagedProcess(
        "redis-exporter",
        [
            debian_command("prometheus-redis-exporter"),
            f"-redis.addr={redis_url}",
            f"-check-single-keys={single_keys}",
            f"-web.listen-address={address}",
        ],
        log_dir=tmp_dir,
    )
    process.start_until_ready(
        lambda: http_ok(f"http://{address}/metrics"), START_TIMEOUT_SECONDS, "serving /metrics"
    )
    return process, address


class PrometheusServer:
    """A Prometheus with its own data under `tmp_dir`, answering on a free loopback port."""

    def __init__(self, tmp_dir: pathlib.Path) -> None:
        self.address = f"127.0.0.1:{free_port()}"
        self.config_path = tmp_dir / "prometheus.yml"
        self._tmp_dir = tmp_dir
        self._process: ManagedProcess | None = None
        self._http = httpx.Client(base_url=f"http://{self.address}", timeout=10.0)

    def start(self, config: Mapping[str, Any]) -> None:
        self.config_path.write_text(yaml.safe_dump(dict(config)), encoding="utf-8")
        promtool_check_config(self.config_path)
        self._process = ManagedProcess(
            "prometheus",
            [
                debian_command("prometheus"),
                f"--config.file={self.config_path}",
                f"--storage.tsdb.path={self._tmp_dir / 'data'}",
                f"--web.listen-address={self.address}",
            ],
            log_dir=self._tmp_dir,
        )
        ready = f"http://{self.address}/-/ready"
        self._process.start_until_ready(lambda: http_ok(ready), START_TIMEOUT_SECONDS, "ready")

    def stop(self) -> None:
        self._http.close()
        if self._process is not None:
            self._process.stop()

    def _api(self, path: str, **params: str) -> Any:
        reply = self._http.get(f"/api/v1/{path}", params=params)
        body = reply.json()
        if body.get("status") != "success":
            raise PrometheusError(f"{path} {params}: {body.get('error', reply.text)}")
        return body["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        """An instant query's series (Prometheus's own error when it refuses the expression)."""
        data = self._api("query", query=expr)
        result: list[dict[str, Any]] = data["result"]
        return result

    def label_values(self, label: str, series: str) -> list[str]:
        values: list[str] = self._api(f"label/{label}/values", **{"match[]": series})
        return values

    def targets(self) -> list[dict[str, Any]]:
        active: list[dict[str, Any]] = self._api("targets")["activeTargets"]
        return active


class PrometheusError(RuntimeError):
    """Prometheus answered a query with an error (a parse error, a bad parameter)."""
