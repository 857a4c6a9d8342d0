"""Transcribing a voice note: check the stream, decode the audio, recognise in an executor."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable
from concurrent.futures import Executor
from dataclasses import dataclass

from services.common import audio_formats
from services.common.audio_formats import MAX_AUDIO_BYTES
from services.common.errors import InvalidArgument
from services.common.request_context import in_this_context
from services.nlp.domain.audio import decode_audio
from services.nlp.domain.models import Transcript
from services.nlp.domain.ports import Transcriber


@dataclass(frozen=True)
class AudioFormat:
    content_type: str
    sample_rate_hertz: int = 0


@dataclass(frozen=True)
class AudioPart:
    """One message of a transcription stream: the format (first) or a chunk of audio."""

    format: AudioFormat | None = None
    chunk: bytes = b""


async def collect_audio(parts: AsyncIterable[AudioPart]) -> tuple[AudioFormat, bytes]:
    """Reassembles the stream, refusing it as soon as it breaks the protocol or the size limit."""
    declared: AudioFormat | None = None
    audio = bytearray()
    async for part in parts:
        if part.format is not None:
            if declared is not None or audio:
                raise InvalidArgument.field("format", "only the first message may carry it")
            declared = part.format
            audio_formats.accepted_type(declared.content_type, "format.content_type")
            if declared.sample_rate_hertz < 0:
                raise InvalidArgument.field("format.sample_rate_hertz", "must not be negative")
            continue
        if declared is None:
            raise InvalidArgument.field("format", "the first message must carry the format")
        if len(audio) + len(part.chunk) > MAX_AUDIO_BYTES:
            raise InvalidArgument.field("audio_chunk", f"audio exceeds {MAX_AUDIO_BYTES} bytes")
        audio += part.chunk
    if declared is None:
        raise InvalidArgument.field("format", "the first message must carry the format")
    if not audio:
        raise InvalidArgument.field("audio_chunk", "no audio was sent")
    return declared, bytes(audio)


class TranscriptionService:
    def __init__(self, transcriber: Transcriber, executor: Executor) -> None:
        self._transcriber = transcriber
        self._executor = executor

    def _recognise(self, audio_format: AudioFormat, data: bytes) -> Transcript:
        pcm = decode_audio(audio_format.content_type, data, audio_format.sample_rate_hertz)
        segments = self._transcriber.transcribe(pcm) if pcm.samples else []
        return Transcript(
            text=" ".join(segment.text for segment in segments if segment.text),
            segments=segments,
            duration_seconds=pcm.duration_seconds,
        )

    async def transcribe(self, parts: AsyncIterable[AudioPart]) -> Transcript:
        audio_format, data = await collect_audio(parts)
        loop = asyncio.get_running_loop()
        recognise = in_this_context(self._recognise)
        return await loop.run_in_executor(self._executor, recognise, audio_format, data)
