"""Language identification with py3langid (langid.py's naive Bayes over byte n-grams, 97
languages), with the default language when the text is too short or the guess too weak.

Why not langdetect (used until 2026-11-27): on short notes it is confidently wrong — "My
sourdough starter smells like apples" came back Norwegian with p = 0.99999 — and it took ~7 ms a
text. On a labelled set of 50 short English insights and 40 in eight other languages
(tests/unit/test_language.py) langdetect got 48 + 33 right, py3langid 50 + 39, in ~0.1 ms.
"""

from __future__ import annotations

import functools

from py3langid.langid import MODEL_FILE, LanguageIdentifier

DEFAULT_LANGUAGE = "en"
# Below this many letters any guess is close to random; assume the default.
MIN_LETTERS = 12
# py3langid's normalised probabilities are spread thin on a few words (a clear English note can
# score 0.1 when the runner-up languages share its n-grams). Below this the top language is no
# better than noise (single words, names: "Kubernetes operators" -> Latvian at 0.05); keep the
# default. Chosen on the labelled set above: every text at or above it was identified correctly.
MIN_PROBABILITY = 0.2


@functools.cache
def _identifier() -> LanguageIdentifier:
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def warm_up() -> None:
    """Loads the model now (~0.5 s) rather than on the first insight."""
    detect_language("this warms the language model up")


def detect_language(text: str) -> str:
    """A language code (ISO 639-1 where the language has one); the default when unsure."""
    if sum(ch.isalpha() for ch in text) < MIN_LETTERS:
        return DEFAULT_LANGUAGE
    code, probability = _identifier().classify(text)
    if probability < MIN_PROBABILITY:
        return DEFAULT_LANGUAGE
    return str(code).lower()
