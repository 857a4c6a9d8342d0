"""Real engines for tests, started on free ports by the harness itself (nothing runs before
`make test`): FerretDB, the MongoDB-protocol engine, on its SQLite backend.

`start_ferretdb(tmp_dir)` starts one; the session-scoped fixture `ferretdb_uri` and
`shared_ferretdb_uri()` (for code that has no fixture request, like the contract suite's
backend factories) share one FerretDB for the whole session, started on first use and stopped
when the session ends.
"""

from __future__ import annotations

import atexit
import os
import pathlib
import shutil
import tempfile
from collections.abc import Callable, Iterator

import pytest
from neo4j import GraphDatabase
from neo4j.exceptions import DriverError, Neo4jError
from pymongo import MongoClient
from pymongo.errors import PyMongoError

from gateway.processes import ManagedProcess, free_port

REPO = pathlib.Path(__file__).resolve().parent.parent
FERRETDB_BINARY = REPO / "build" / "tools" / "bin" / "ferretdb"
START_TIMEOUT_SECONDS = 30.0


def ferretdb_binary() -> pathlib.Path:
    """build/tools/bin/ferretdb (what `make tools` builds), or $FERRETDB_BIN."""
    override = os.environ.get("FERRETDB_BIN")
    return pathlib.Path(override) if override else FERRETDB_BINARY


def mongo_ping(uri: str, timeout_ms: int = 500) -> bool:
    """True once the server at `uri` answers the `ping` command."""
    client: MongoClient[dict[str, object]] = MongoClient(
        uri,
        serverSelectionTimeoutMS=timeout_ms,
        connectTimeoutMS=timeout_ms,
        socketTimeoutMS=timeout_ms,
    )
    try:
        reply = client.admin.command("ping")
    except PyMongoError:
        return False
    finally:
        client.close()
    return bool(reply.get("ok"))


def start_ferretdb(tmp_dir: pathlib.Path) -> tuple[ManagedProcess, str]:
    """Starts FerretDB with its SQLite backend (data, state and log under `tmp_dir`) on a free
    loopback port; returns the process and its mongodb:// URI once it answers `ping`.

    A missing binary fails the test rather than skipping it: `make test` builds it first."""
    binary = ferretdb_binary()
    if not os.access(binary, os.X_OK):
        pytest.fail(
            f"FerretDB binary not found at {binary}: run `make tools` "
            "(scripts/install_ferretdb.sh builds it) or set FERRETDB_BIN",
            pytrace=False,
        )
    data_dir = tmp_dir / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    process = ManagedProcess(
        "ferretdb",
        [
            str(binary),
            "--handler=sqlite",
            f"--sqlite-url=file:{data_dir}/",
            f"--listen-addr=127.0.0.1:{port}",
            f"--state-dir={tmp_dir}",
            "--debug-addr=-",
            "--telemetry=disable",
            "--log-level=warn",
        ],
        log_dir=tmp_dir,
    )
    uri = f"mongodb://127.0.0.1:{port}/"
    process.start_until_ready(lambda: mongo_ping(uri), START_TIMEOUT_SECONDS, "answering ping")
    return process, uri


class _SharedEngine:
    """One engine for the session, started on first use; stopped at the end of the session (by
    the fixture's teardown, or at interpreter exit when only its shared_*_uri() used it)."""

    def __init__(
        self,
        name: str,
        start: Callable[[pathlib.Path], tuple[ManagedProcess, str]],
        stop_timeout: float = 15.0,
    ) -> None:
        self._name = name
        self._start = start
        self._stop_timeout = stop_timeout
        self._process: ManagedProcess | None = None
        self._uri = ""
        self._dir: pathlib.Path | None = None

    def uri(self) -> str:
        if self._process is not None and not self._process.alive():
            pytest.fail(f"{self._name} has exited:\n{self._process.log_tail()}", pytrace=False)
        if self._process is None:
            work_dir = pathlib.Path(tempfile.mkdtemp(prefix=f"{self._name.lower()}-"))
            try:
                self._process, self._uri = self._start(work_dir)
            except BaseException:
                shutil.rmtree(work_dir, ignore_errors=True)
                raise
            self._dir = work_dir
            atexit.register(self.stop)
        return self._uri

    def stop(self) -> None:
        if self._process is not None:
            self._process.stop(timeout=self._stop_timeout)
            self._process = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None


_FERRETDB = _SharedEngine("FerretDB", start_ferretdb)


def shared_ferretdb_uri() -> str:
    """The URI of the session's FerretDB, starting it on first use."""
    return _FERRETDB.uri()


@pytest.fixture(scope="session")
def ferretdb_uri() -> Iterator[str]:
    """The session's FerretDB (shared with shared_ferretdb_uri()); stopped after the session."""
    yield shared_ferretdb_uri()
    _FERRETDB.stop()


# --- Neo4j: Neo4j 5 Community, embedded in a small launcher with Bolt on (gateway/neo4j_launcher,
# built into build/tools/neo4j by scripts/install_neo4j.sh). `start_neo4j(tmp_dir)` starts one;
# `shared_neo4j_uri()` and the session fixture `neo4j_uri` share one for the whole session, and
# `clear_neo4j(uri)` empties it between tests (Community has one user database).

NEO4J_DIR = REPO / "build" / "tools" / "neo4j"
NEO4J_START_TIMEOUT_SECONDS = 120.0
# C1 only and the class-data-sharing archive: starts in ~6 s instead of ~23 s on two cores.
NEO4J_JVM_OPTIONS = ("-Xms256m", "-Xmx1g", "-XX:TieredStopAtLevel=1", "-XX:+ExitOnOutOfMemoryError")


def neo4j_launcher_dir() -> pathlib.Path:
    """build/tools/neo4j (what `make tools` builds), or $NEO4J_LAUNCHER_DIR."""
    override = os.environ.get("NEO4J_LAUNCHER_DIR")
    return pathlib.Path(override) if override else NEO4J_DIR


def neo4j_ready(uri: str) -> bool:
    """True once the server at `uri` accepts a Bolt connection and answers a query."""
    try:
        with GraphDatabase.driver(uri, auth=None, connection_timeout=1.0) as driver:
            driver.verify_connectivity()
            driver.execute_query("RETURN 1")
    except (DriverError, Neo4jError, OSError):
        return False
    return True


def start_neo4j(tmp_dir: pathlib.Path) -> tuple[ManagedProcess, str]:
    """Starts Neo4j (data and log under `tmp_dir`, authentication off) with Bolt on a free
    loopback port; returns the process and its bolt:// URI once it answers a query.

    A launcher that is not built fails the test rather than skipping it: `make tools` builds it."""
    home = neo4j_launcher_dir()
    jar = home / "neo4j-launcher.jar"
    java = shutil.which("java")
    if not jar.is_file() or java is None:
        pytest.fail(
            f"Neo4j launcher not found at {jar}{'' if java else ' (nor java on PATH)'}: run "
            "`make tools` (scripts/install_neo4j.sh builds it) or set NEO4J_LAUNCHER_DIR",
            pytrace=False,
        )
    archive = home / "neo4j-launcher.jsa"
    sharing = [f"-XX:SharedArchiveFile={archive}"] if archive.is_file() else []
    port = free_port()
    process = ManagedProcess(
        "neo4j",
        [java, *NEO4J_JVM_OPTIONS, *sharing, "-jar", str(jar), str(tmp_dir / "neo4j"), str(port)],
        log_dir=tmp_dir,
    )
    uri = f"bolt://127.0.0.1:{port}"
    process.start_until_ready(
        lambda: neo4j_ready(uri), NEO4J_START_TIMEOUT_SECONDS, "answering", stop_timeout=30.0
    )
    return process, uri


def clear_neo4j(uri: str) -> None:
    """Deletes every node and relationship (the schema stays)."""
    with GraphDatabase.driver(uri, auth=None) as driver:
        driver.execute_query("MATCH (n) DETACH DELETE n")


_NEO4J = _SharedEngine("Neo4j", start_neo4j, stop_timeout=30.0)


def shared_neo4j_uri() -> str:
    """The bolt:// URI of the session's Neo4j, starting it on first use."""
    return _NEO4J.uri()


@pytest.fixture(scope="session")
def neo4j_uri() -> Iterator[str]:
    """The session's Neo4j (shared with shared_neo4j_uri()); stopped after the session."""
    yield shared_neo4j_uri()
    _NEO4J.stop()
