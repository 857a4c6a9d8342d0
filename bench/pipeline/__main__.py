"""bench/pipeline: create→READY latency and throughput of the enrichment pipeline, through Envoy.

    python -m bench.pipeline [--count 150] [--rate 5] [--workers 1 2] [--audio-seconds 30]

For each worker count it starts a fresh stack on free ports, creates --count text insights at a
steady --rate per second, and reports POST /insights latency, create→READY percentiles (from the
insights' own createTime/updateTime, so polling does not distort them) and insights/second. Then it
measures the transcription real-time factor of a ~30-second spoken clip.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import pathlib
import time
import wave

import grpc

from bench.common import logged_in_client, percentile, running_stack, summary
from insighttracker.nlp.v1 import nlp_pb2, nlp_pb2_grpc
from services.common.tokens import TokenCodec

FIXTURE = pathlib.Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "apple_berlin.wav"
TOPICS = [
    "Apple is opening a research lab in Berlin",
    "Graph databases make connected notes easy to explore",
    "Sourdough bread needs a long cold proof overnight",
    "Rust's ownership model prevents data races at compile time",
    "A morning walk clears my head before deep work",
]


def _time(stamp: str) -> dt.datetime:
    return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def text_run(workers: int, count: int, rate: float) -> None:
    with running_stack(extra_workers=workers - 1) as stack:
        client = logged_in_client(stack)
        post_ms: list[float] = []
        started = time.perf_counter()
        for n in range(count):
            due = started + n / rate
            time.sleep(max(0.0, due - time.perf_counter()))
            sent = time.perf_counter()
            reply = client.post("/insights", json={"text": f"{TOPICS[n % len(TOPICS)]} ({n})"})
            post_ms.append((time.perf_counter() - sent) * 1000)
            reply.raise_for_status()
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            pending = client.get("/insights", params={"status": "PENDING", "pageSize": 1}).json()
            working = client.get("/insights", params={"status": "PROCESSING", "pageSize": 1})
            if pending["totalSize"] == 0 and working.json()["totalSize"] == 0:
                break
            time.sleep(0.5)
        insights, token = [], ""
        while True:
            params: dict[str, str | int] = {"pageSize": 100}
            if token:
                params["pageToken"] = token
            page = client.get("/insights", params=params).json()
            insights += page["insights"]
            token = page["nextPageToken"]
            if not token:
                break
        ready = [i for i in insights if i["status"] == "READY"]
        latencies = [
            (_time(i["updateTime"]) - _time(i["createTime"])).total_seconds() * 1000 for i in ready
        ]
        first = min(_time(i["createTime"]) for i in insights)
        last = max(_time(i["updateTime"]) for i in ready)
        print(f"\n== {workers} worker(s), {count} text insights at {rate}/s ==")
        print(summary("POST /insights", post_ms))
        print(summary("create→READY", latencies))
        print(
            f"ready {len(ready)}/{len(insights)}; "
            f"throughput {len(ready) / (last - first).total_seconds():.2f} insights/s"
        )


def _clip(seconds: float) -> tuple[bytes, float]:
    with wave.open(str(FIXTURE)) as reader:
        params, frames = reader.getparams(), reader.readframes(reader.getnframes())
        clip_seconds = reader.getnframes() / reader.getframerate()
    repeats = max(1, round(seconds / clip_seconds))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setparams(params)
        writer.writeframes(frames * repeats)
    return buffer.getvalue(), clip_seconds * repeats


def audio_run(seconds: float) -> None:
    with running_stack() as stack:
        audio, duration = _clip(seconds)
        codec = TokenCodec(
            stack.config.jwt_secret, "HS256", "insight-tracker", 900, stack.config.jwt_secret
        )
        metadata = (("authorization", f"Bearer {codec.issue_service('bench')}"),)

        def messages() -> list[nlp_pb2.TranscribeRequest]:
            first = nlp_pb2.TranscribeRequest(format=nlp_pb2.AudioFormat(content_type="audio/wav"))
            chunks = [audio[i : i + 65_536] for i in range(0, len(audio), 65_536)]
            return [first, *(nlp_pb2.TranscribeRequest(audio_chunk=c) for c in chunks)]

        with grpc.insecure_channel(f"127.0.0.1:{stack.config.nlp_port}") as channel:
            stub = nlp_pb2_grpc.NlpServiceStub(channel)
            timings = []
            for _ in range(3):
                started = time.perf_counter()
                reply = stub.Transcribe(iter(messages()), metadata=metadata, timeout=600)
                timings.append(time.perf_counter() - started)
        print(f"\n== transcription of a {duration:.1f} s clip (PocketSphinx) ==")
        print(
            f"real-time factor: best {min(timings) / duration:.3f}, "
            f"median {percentile(timings, 50) / duration:.3f} (< 1 is faster than real time)"
        )
        print(f"transcript starts: {reply.text[:80]!r}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=150)
    parser.add_argument("--rate", type=float, default=5.0)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--audio-seconds", type=float, default=30.0)
    args = parser.parse_args()
    for workers in args.workers:
        text_run(workers, args.count, args.rate)
    if args.audio_seconds > 0:
        audio_run(args.audio_seconds)


if __name__ == "__main__":
    main()
