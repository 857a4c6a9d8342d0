"""The least similarity for search by meaning (DEFAULT_SEARCH_MIN_SIMILARITY), checked on the
hand-judged set it was chosen on: 14 short queries against 50 short notes, each query's relevant
notes named. It loads the real embedding model (~3 s) and scores every pair the way the graph
service does (cosine of normalised all-MiniLM-L6-v2 embeddings)."""

from __future__ import annotations

import pytest

from services.common.config import DEFAULT_SEARCH_MIN_SIMILARITY
from services.nlp.engines.sentence_embedder import SentenceEmbedder
from tests.unit.test_language import ENGLISH

NOTES = ENGLISH[:50]  # the last is a transcript with errors, not a note anyone typed
RELEVANT: dict[str, set[str]] = {
    "bread baking": {
        "Sourdough bread needs a long cold proof overnight",
        "My sourdough starter smells like apples",
    },
    "sleep": {
        "Running five kilometres every morning improved my sleep",
        "Sleep quality drops when I drink coffee after noon",
        "Stretching before bed helps my lower back",
    },
    "travel plans": {
        "Book flights to Lisbon for the conference",
        "Pack sunscreen and hiking boots for the trip",
        "Cheap flights to Oslo in March",
        "Remember to renew the passport before June",
    },
    "money": {
        "Finish the quarterly tax forms before April",
        "Pay the electricity bill",
        "Ask Sarah about the quarterly budget review",
    },
    "cooking dinner": {
        "Salmon with lemon and dill tonight",
        "My grandmother's lentil soup recipe uses cumin",
        "Try cold brew with oat milk",
        "Pizza night with the team",
    },
    "exercise": {
        "Running five kilometres every morning improved my sleep",
        "Yoga class cancelled this week",
        "Stretching before bed helps my lower back",
        "Bike commute saves me forty minutes a day",
    },
    "programming": {
        "Learn the basics of Rust ownership and borrowing",
        "Docker images are too large for the edge devices",
        "Server latency spikes every night at midnight",
        "New keyboard shortcuts make editing faster",
        "Graph databases make connected notes easy to explore",
        "Neo4j stores a graph of nodes and relationships",
        "Use smaller batches when fine tuning the model",
    },
    "family": {
        "Call mom on Sunday",
        "Grandpa's stories about the war",
        "The kids loved the museum of natural history",
        "Order birthday cake for Emma",
        "My grandmother's lentil soup recipe uses cumin",
    },
    "home repairs": {
        "Fix the leaking tap in the bathroom",
        "Voice memo about the kitchen renovation quote",
        "Swap the car tyres for winter",
    },
    "gardening": {
        "Garden tomatoes need more sun on the balcony",
        "Plant basil and mint in the window box",
    },
    "music": {"Jazz concert downtown on Saturday night"},
    "books": {
        "Read chapter four of the statistics book",
        "The novel's ending felt rushed",
        "Start a reading group at work",
    },
    "meetings at work": {
        "Team retro: too many meetings on Mondays",
        "Meeting notes: ship the beta by Friday",
        "Ask Sarah about the quarterly budget review",
    },
    "machine learning": {
        "Use smaller batches when fine tuning the model",
        "Berlin startups are hiring machine learning engineers",
    },
}
CANDIDATES = [0.2, 0.25, 0.3, 0.35, 0.4]
# A search that shows one wrong note in a hundred pairs looks broken; stay under that.
MAX_WRONG_RATE = 0.01


@pytest.fixture(scope="module")
def scored() -> list[tuple[float, bool]]:
    """(similarity, relevant) for every query and note."""
    embedder = SentenceEmbedder.load()
    notes = embedder.embed(NOTES)
    queries = embedder.embed(list(RELEVANT))
    return [
        (sum(q * n for q, n in zip(query, note, strict=True)), text in relevant)
        for query, relevant in zip(queries, RELEVANT.values(), strict=True)
        for note, text in zip(notes, NOTES, strict=True)
    ]


def _found_and_wrong(scored: list[tuple[float, bool]], threshold: float) -> tuple[int, int]:
    found = sum(relevant and score >= threshold for score, relevant in scored)
    wrong = sum(not relevant and score >= threshold for score, relevant in scored)
    return found, wrong


def test_the_labelled_set_is_whole() -> None:
    assert len(NOTES) == 50
    assert all(relevant <= set(NOTES) for relevant in RELEVANT.values())


def test_the_default_is_the_lowest_threshold_with_few_wrong_hits(
    scored: list[tuple[float, bool]],
) -> None:
    irrelevant = sum(not relevant for _, relevant in scored)
    table = {t: _found_and_wrong(scored, t) for t in CANDIDATES}
    print({t: f"found {f}, wrong {w}" for t, (f, w) in table.items()})
    acceptable = [t for t, (_, wrong) in table.items() if wrong / irrelevant <= MAX_WRONG_RATE]
    assert min(acceptable) == DEFAULT_SEARCH_MIN_SIMILARITY


def test_the_default_finds_a_third_of_the_relevant_notes_by_meaning_alone(
    scored: list[tuple[float, bool]],
) -> None:
    found, _ = _found_and_wrong(scored, DEFAULT_SEARCH_MIN_SIMILARITY)
    relevant = sum(relevant for _, relevant in scored)
    assert found / relevant >= 0.3
