"""ContextAnalyses: a suggestions context is analysed once per owner, text and theme model;
a new model, another text or another person analyses again; an unreadable registry or cache
entry never fails a suggestion."""

from __future__ import annotations

from array import array

from services.assistant.domain import cache_keys
from services.assistant.domain.context_analysis import ContextAnalyses, decode, encode
from services.assistant.domain.models import TextAnalysis
from services.common.errors import Unavailable
from services.common.theme_models import ThemeModel
from tests.unit.test_assistant_fakes import FakeAnalyzer, FakeRegistry, MemoryCache

MODEL = ThemeModel(3, ["Cats", "Dogs"], [[2.0, 0.0]], [0.0], 4, 1.0, "t")


def world() -> tuple[ContextAnalyses, FakeAnalyzer, MemoryCache, FakeRegistry]:
    analyzer, cache, registry = (
        FakeAnalyzer(theme="Rust", confidence=0.75),
        MemoryCache(),
        FakeRegistry(),
    )
    return ContextAnalyses(analyzer, cache, registry), analyzer, cache, registry


def test_the_cached_form_is_exact() -> None:
    analysis = TextAnalysis("Rust", 0.123456789, [0.1, -2.5, 1e-7, 0.0])
    back = decode(encode(analysis))
    assert back.theme == "Rust" and back.theme_confidence == 0.123456789
    # float32, as the embedding arrives from nlp over protobuf
    assert back.embedding == array("f", analysis.embedding).tolist()


async def test_a_context_is_analysed_once_per_owner_text_and_model() -> None:
    contexts, analyzer, cache, registry = world()
    first = await contexts.analyze("ann", "safe threads in rust")
    again = await contexts.analyze("ann", "safe threads in rust")
    assert again == first
    assert analyzer.analyzed == [("ann", "safe threads in rust")]
    key = cache_keys.context_analysis_key("ann", 0, "safe threads in rust")
    assert cache.ttls[key] == cache_keys.CONTEXT_ANALYSIS_TTL_SECONDS

    await contexts.analyze("bob", "safe threads in rust")  # another person's model
    await contexts.analyze("ann", "rust async tasks")  # another text
    await registry.promote("ann", MODEL)  # a new model for ann
    await contexts.analyze("ann", "safe threads in rust")
    assert analyzer.analyzed[1:] == [
        ("bob", "safe threads in rust"),
        ("ann", "rust async tasks"),
        ("ann", "safe threads in rust"),
    ]
    assert cache_keys.context_analysis_key("ann", 3, "safe threads in rust") in cache.entries


class _DownRegistry(FakeRegistry):
    async def current_version(self, owner_id: str) -> int:
        raise Unavailable("model registry is unavailable")


async def test_an_unreadable_registry_analyses_and_caches_nothing() -> None:
    analyzer, cache = FakeAnalyzer(), MemoryCache()
    contexts = ContextAnalyses(analyzer, cache, _DownRegistry())
    for _ in range(2):
        assert (await contexts.analyze("ann", "rust")).theme == "Technology"
    assert len(analyzer.analyzed) == 2 and cache.entries == {}


async def test_an_unreadable_entry_is_analysed_again() -> None:
    contexts, analyzer, cache, _ = world()
    cache.entries[cache_keys.context_analysis_key("ann", 0, "rust")] = "{not json"
    assert (await contexts.analyze("ann", "rust")).theme == "Rust"
    assert analyzer.analyzed == [("ann", "rust")]
