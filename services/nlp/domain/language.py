"""Language identification with langdetect, made deterministic (seeded) and safe on short texts."""

from __future__ import annotations

from langdetect import DetectorFactory, detect
from langdetect.lang_detect_exception import LangDetectException

DEFAULT_LANGUAGE = "en"
# Below this many letters langdetect's guesses are close to random; assume the default.
MIN_LETTERS = 12

DetectorFactory.seed = 0


def warm_up() -> None:
    """Loads langdetect's profiles now (they load lazily, once, on the first call)."""
    detect_language("this warms the language profiles up")


def detect_language(text: str) -> str:
    """An ISO 639-1 code ("zh-cn" is reported as "zh"); the default when unsure."""
    if sum(ch.isalpha() for ch in text) < MIN_LETTERS:
        return DEFAULT_LANGUAGE
    try:
        code = str(detect(text))
    except LangDetectException:
        return DEFAULT_LANGUAGE
    return code.split("-", 1)[0].lower() or DEFAULT_LANGUAGE
