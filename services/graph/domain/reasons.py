"""Why two insights are related: shared entities and keywords, their scores and wording."""

from __future__ import annotations

import math
from collections.abc import Iterable

MAX_NAMED_IN_REASON = 5


def term_key(term: str) -> str:
    """Entities and keywords match case-insensitively, whitespace-normalised."""
    return " ".join(term.casefold().split())


def distinct_keys(terms: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for term in terms:
        key = term_key(term)
        if key:
            seen.setdefault(key, None)
    return list(seen)


def shared_terms(mine: Iterable[str], theirs: Iterable[str]) -> list[str]:
    """The terms of `mine` (as written there, in its order) that `theirs` has too."""
    their_keys = set(distinct_keys(theirs))
    shared: dict[str, str] = {}
    for term in mine:
        key = term_key(term)
        if key in their_keys:
            shared.setdefault(key, " ".join(term.split()))
    return list(shared.values())


def entity_overlap(mine: Iterable[str], theirs: Iterable[str]) -> float:
    """The Ochiai coefficient of two entity sets: |A ∩ B| / sqrt(|A| · |B|), in 0..1.

    Unlike Jaccard it does not punish an insight for naming many other things: one shared entity
    between a 1-entity and a 4-entity insight scores 0.5 (Jaccard: 0.25)."""
    a, b = set(distinct_keys(mine)), set(distinct_keys(theirs))
    if not a or not b:
        return 0.0
    return len(a & b) / math.sqrt(len(a) * len(b))


def _listing(terms: list[str]) -> str:
    named = ", ".join(terms[:MAX_NAMED_IN_REASON])
    more = len(terms) - MAX_NAMED_IN_REASON
    return f"{named} and {more} more" if more > 0 else named


def semantic_reason(similarity: float, shared_keywords: list[str]) -> str:
    reason = f"similar meaning ({similarity:.2f})"
    if shared_keywords:
        reason += f"; shared keywords: {_listing(shared_keywords)}"
    return reason


def entity_reason(shared_entities: list[str]) -> str:
    return f"shared entities: {_listing(shared_entities)}"
