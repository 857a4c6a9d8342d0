"""Adapters of the model ports (spaCy, sentence-transformers, PocketSphinx, Whisper)."""
