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
from collections.abc import Iterator

import pytest
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
    process.start()
    try:
        process.wait_until(lambda: mongo_ping(uri), START_TIMEOUT_SECONDS, "answering ping")
    except BaseException:
        process.stop()
        raise
    return process, uri


class _SharedEngine:
    """One FerretDB for the session, started on first use; stopped at the end of the session
    (by the fixture's teardown, or at interpreter exit when only shared_ferretdb_uri() used it)."""

    def __init__(self) -> None:
        self._process: ManagedProcess | None = None
        self._uri = ""
        self._dir: pathlib.Path | None = None

    def uri(self) -> str:
        if self._process is not None and not self._process.alive():
            pytest.fail(f"FerretDB has exited:\n{self._process.log_tail()}", pytrace=False)
        if self._process is None:
            work_dir = pathlib.Path(tempfile.mkdtemp(prefix="ferretdb-"))
            try:
                self._process, self._uri = start_ferretdb(work_dir)
            except BaseException:
                shutil.rmtree(work_dir, ignore_errors=True)
                raise
            self._dir = work_dir
            atexit.register(self.stop)
        return self._uri

    def stop(self) -> None:
        if self._process is not None:
            self._process.stop()
            self._process = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None


_FERRETDB = _SharedEngine()


def shared_ferretdb_uri() -> str:
    """The URI of the session's FerretDB, starting it on first use."""
    return _FERRETDB.uri()


@pytest.fixture(scope="session")
def ferretdb_uri() -> Iterator[str]:
    """The session's FerretDB (shared with shared_ferretdb_uri()); stopped after the session."""
    yield shared_ferretdb_uri()
    _FERRETDB.stop()
