"""Transcriber on PocketSphinx 5 with its bundled US English model.

Settings, measured on the 2-core dev machine with a 34 s espeak-ng clip (WAV decoding included):
the defaults run at a real-time factor of ~0.50 with a word error rate of ~0.41; these run at
~0.18 with a WER of ~0.30 (synthetic speech is hard for the en-us model):
  - fwdflat=False skips the second, flat-lexicon search pass, the slowest stage (the lattice
    best-path pass still rescores the tree-search result);
  - maxhmmpf=3000 caps the active HMMs per frame, the main cost on long or noisy audio;
  - dither=True adds 1/2-bit noise before feature extraction: digital silence (exact zeros)
    otherwise yields log(0) features and a confident hallucinated word ("dog"), and the first
    words of short notes come out better. seed=1 keeps the noise, and so the result, repeatable.
Frame downsampling (ds=2), topn=2 and narrower beams cost accuracy for little or no more speed.
One Decoder is made per worker thread and reused: creating one loads the model (~1 s).

PocketSphinx holds the GIL for the whole of a decode, so the service runs this engine in a child
process (engines/isolated.py), never in a thread of the server. The whole note is one utterance
(full_utt), so cepstral mean normalisation sees all of it: feeding it in pieces switches to live
normalisation, which loses the first words of short notes.
"""

from __future__ import annotations

import threading
from typing import Any

from pocketsphinx import Decoder

from services.nlp.domain.audio import TARGET_RATE, Pcm16k
from services.nlp.domain.models import TranscriptSegment
from services.nlp.domain.segments import TimedWord, group_words

FRAMES_PER_SECOND = 100  # PocketSphinx's default frame rate: one frame per 10 ms
DECODER_OPTIONS: dict[str, Any] = {"fwdflat": False, "maxhmmpf": 3000, "dither": True, "seed": 1}


class PocketSphinxTranscriber:
    def __init__(self, options: dict[str, Any] | None = None) -> None:
        self._options = dict(DECODER_OPTIONS if options is None else options)
        self._local = threading.local()

    def _decoder(self) -> Any:
        decoder = getattr(self._local, "decoder", None)
        if decoder is None:
            decoder = Decoder(samprate=TARGET_RATE, loglevel="FATAL", **self._options)
            self._local.decoder = decoder
        return decoder

    def warm_up(self) -> None:
        """Creates this thread's decoder now rather than on its first request."""
        self._decoder()

    def transcribe(self, audio: Pcm16k) -> list[TranscriptSegment]:
        decoder = self._decoder()
        decoder.start_utt()
        decoder.process_raw(audio.samples, no_search=False, full_utt=True)
        decoder.end_utt()
        if decoder.hyp() is None:
            return []
        words = [
            TimedWord(
                text=str(seg.word),
                start_seconds=seg.start_frame / FRAMES_PER_SECOND,
                end_seconds=(seg.end_frame + 1) / FRAMES_PER_SECOND,
                confidence=float(seg.prob),
            )
            for seg in decoder.seg()
        ]
        return group_words(words)
