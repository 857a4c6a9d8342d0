"""TextParser on a spaCy pipeline (default en_core_web_sm; any pipeline with NER and a parser)."""

from __future__ import annotations

import spacy
from spacy.language import Language

from services.nlp.domain.keywords import chunk_term
from services.nlp.domain.models import Entity, ParsedText
from services.nlp.engines import other_languages

# Components keywords and entities do not need; skipping them saves time per call.
_UNUSED = ("textcat", "textcat_multilabel", "senter")
# What only the noun chunks need. A note in another language uses the pipeline for its entities
# alone (services/nlp/engines/other_languages.py), so these are skipped for it: ~20 % less time,
# the same entities.
_FOR_NOUN_CHUNKS = ("tagger", "morphologizer", "parser", "attribute_ruler", "lemmatizer")


class SpacyTextParser:
    def __init__(self, nlp: Language) -> None:
        self._nlp = nlp
        self._entities_only = [name for name in _FOR_NOUN_CHUNKS if name in nlp.pipe_names]

    @classmethod
    def load(cls, name_or_path: str) -> SpacyTextParser:
        try:
            nlp = spacy.load(name_or_path, exclude=list(_UNUSED))
        except OSError as exc:
            raise RuntimeError(f"cannot load the spaCy pipeline {name_or_path!r}: {exc}") from exc
        missing = {"ner", "parser"} - set(nlp.pipe_names)
        if missing:
            raise RuntimeError(f"spaCy pipeline {name_or_path!r} lacks {sorted(missing)}")
        parser = cls(nlp)
        parser.parse("Warm-up text about Berlin.")
        return parser

    def parse(self, text: str, language: str = "en") -> ParsedText:
        if language != self._nlp.lang:
            return other_languages.parse(self._nlp(text, disable=self._entities_only), language)
        doc = self._nlp(text)
        entities = [
            Entity(text=ent.text.strip(), label=ent.label_) for ent in doc.ents if ent.text.strip()
        ]
        terms: list[str] = []
        for chunk in doc.noun_chunks:
            if chunk.root.pos_ == "PRON":
                continue
            # Only the head word is lemmatised ("engineers" -> "engineer"): a modifier's lemma
            # is often another word ("machine learning" -> "machine learn", "better" -> "well").
            root = chunk.root.i
            term = chunk_term(
                (token.lemma_ if token.i == root else token.text, token.pos_) for token in chunk
            )
            if term:
                terms.append(term)
        return ParsedText(entities=entities, terms=terms)
