"""A Transcriber running in a child process, so recognition never competes for the GIL.

PocketSphinx keeps the GIL for the seconds a decode takes; in a thread that would stall every
other RPC and the event loop. The child (spawned, not forked: the parent has gRPC and torch
threads) builds the engine once and serves one note at a time. If it dies (killed, out of
memory) the call fails with UNAVAILABLE and the next call starts a new child.
"""

from __future__ import annotations

import multiprocessing
import signal
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from services.common.errors import Unavailable
from services.nlp.domain.audio import Pcm16k
from services.nlp.domain.models import TranscriptSegment
from services.nlp.domain.ports import Transcriber

_engine: Transcriber | None = None


def _start_child(choice: str) -> None:
    global _engine  # one engine per child process, built once
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    from services.nlp.engines.transcribers import make_transcriber

    _engine = make_transcriber(choice)
    warm_up = getattr(_engine, "warm_up", None)
    if callable(warm_up):
        warm_up()


def _ready() -> bool:
    return _engine is not None


def _transcribe(audio: Pcm16k) -> list[TranscriptSegment]:
    if _engine is None:
        raise RuntimeError("the transcription engine did not start")
    return _engine.transcribe(audio)


class ProcessTranscriber:
    def __init__(self, choice: str) -> None:
        self._choice = choice
        self._lock = threading.Lock()
        self._pool = self._new_pool()
        self._starting = self._pool.submit(_ready)  # the child loads while the caller goes on

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_child,
            initargs=(self._choice,),
        )

    def wait_until_ready(self) -> None:
        """Waits for the child to load the engine; raises if it cannot."""
        try:
            self._starting.result()
        except BrokenProcessPool as exc:
            raise RuntimeError(
                f"the transcriber {self._choice!r} failed to start (see the log above)"
            ) from exc

    def transcribe(self, audio: Pcm16k) -> list[TranscriptSegment]:
        pool = self._pool
        try:
            return pool.submit(_transcribe, audio).result()
        except BrokenProcessPool as exc:
            with self._lock:
                if self._pool is pool:
                    self._pool = self._new_pool()
            raise Unavailable("the speech recogniser stopped; try again") from exc

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
