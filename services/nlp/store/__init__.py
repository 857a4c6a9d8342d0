"""Storage of the nlp service: per-owner corpus statistics (document frequencies)."""
