"""The foreground launcher (`make run`) stops the stack once, however many stop signals come."""

from __future__ import annotations

import signal
from collections.abc import Iterator

import pytest

from gateway.stack import stop_requested


@pytest.fixture
def restored_handlers() -> Iterator[None]:
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


@pytest.mark.usefixtures("restored_handlers")
def test_the_first_signal_stops_and_later_ones_are_ignored_while_stopping() -> None:
    signal.signal(signal.SIGINT, stop_requested)
    signal.signal(signal.SIGTERM, stop_requested)

    with pytest.raises(KeyboardInterrupt):
        signal.raise_signal(signal.SIGTERM)

    # make forwards SIGTERM to its child; Ctrl-C may be pressed again: neither interrupts stop().
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_IGN
    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    signal.raise_signal(signal.SIGTERM)
    signal.raise_signal(signal.SIGINT)
