"""free_port never hands out the same port twice in one process, even when the kernel offers a
just-released port again (it did: two services of one test stack got the same port)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from gateway import processes


class _KernelOffering:
    """Stands in for socket.socket: binding to port 0 gets the next port from a fixed list."""

    offers: Iterator[int] = iter(())

    def __init__(self, *args: Any) -> None:
        self._port = 0

    def __enter__(self) -> _KernelOffering:
        return self

    def __exit__(self, *args: Any) -> None:
        pass

    def bind(self, address: tuple[str, int]) -> None:
        self._port = next(self.offers)

    def getsockname(self) -> tuple[str, int]:
        return ("127.0.0.1", self._port)


def test_a_port_offered_again_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(processes, "_handed_out", set())
    monkeypatch.setattr(socket, "socket", _KernelOffering)
    _KernelOffering.offers = iter([41000, 41000, 41000, 41001])
    assert [processes.free_port(), processes.free_port()] == [41000, 41001]


def test_real_ports_are_distinct_and_bindable() -> None:
    ports = [processes.free_port() for _ in range(50)]
    assert len(set(ports)) == len(ports)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", ports[-1]))
