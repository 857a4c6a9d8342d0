"""The nlp service: language, entities, keywords, theme and embeddings of text; speech to text."""
