"""The compose deployment checked offline (Docker cannot run in CI): docker-compose.yml, the
Dockerfile, .dockerignore and the image's entry point, against the code (settings, ports,
addresses, health checks, secrets). Run alone with scripts/check_deploy.sh.
"""

from __future__ import annotations

import os
import pathlib
import re
import subprocess

from rq import Queue
from rq.registry import FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry

from gateway import healthcheck
from services.common.pipeline_jobs import PIPELINE_QUEUE
from tests.unit.deploy.model import (
    COMMON_ENV,
    DEPLOY,
    DOCKERFILE,
    DOCKERIGNORE,
    EXPECTED_ENV,
    METRICS_PORT,
    OTHER_PYTHON_ENV,
    PENDING_SETTINGS,
    REPO,
    RQ_WORKER_MODULES,
    compose,
    envoy_admin_port,
    known_settings,
    option,
    python_services,
    services,
)

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
