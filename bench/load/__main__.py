"""bench/load: REST load through Envoy on the embedded default, against a bare baseline.

    python -m bench.load [--replicas 2] [--seconds 20] [--connections 32] [--read-rate 1200 ...]
                         [--rate 200] [--soak-seconds 600]
                         [--mix get=80,list=15,create=2.5,suggest=2.5]

1. reads: GET /insights/{id} closed loop, --connections keep-alive connections for --seconds;
   then the same reads at each fixed --read-rate (open loop over the same connections), whose
   latency is the one to compare with a target: a closed loop's mean latency is always
   connections / throughput (Little's law), whatever the service does. Several rates draw the
   curve of p99 against load, for the project and the bare service alike.
2. bare: the same reads against a minimal grpc.aio service (bench/load/baseline.py) behind an
   Envoy rendered from the same template — the project's throughput as a share of it. Reads and
   bare alternate --pairs times (the machine's speed drifts); the median ratio is reported. Then
   both alternate --pairs times at each fixed --read-rate; the median p99 of each is reported.
3. mixed: reads, lists, creates and suggestions at a fixed --rate (open loop: latency from each
   request's scheduled start) for --soak-seconds, sampling every stack process's RSS.

Load comes from a Go program (bench/load/loadgen, GOMAXPROCS=1); its CPU share is reported.
The full report is also written as JSON (--json-out).
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import pathlib
import statistics
import time
from collections.abc import Callable
from typing import Any

import httpx

from bench.common import running_stack
from bench.load import loadgen
from bench.load.baseline import BareGateway
from bench.load.loadgen import Target
from bench.load.procstat import MemorySampler, cpu_share, cpu_snapshot
from bench.load.workload import DEFAULT_MIX, login, mixed_targets, parse_mix, prepare, read_targets
from gateway.stack import ROOT, Stack

Report = dict[str, Any]


def _line(name: str, report: Report) -> str:
    total = report["total"]
    errors = sum(total["errors"].values())
    # Open loop only: how much of the p99 was spent before the request was sent (no free
    # connection, or the load generator not scheduled) rather than in Envoy and the service.
    lag = ""
    if report["mode"] == "open":
        lag = f", before sending p99={total['start_lag_p99_ms']:.1f}"
    return (
        f"{name}: {total['rps']:.0f} req/s, n={total['count']}, errors={errors} "
        f"p50={total['p50_ms']:.1f} p90={total['p90_ms']:.1f} p99={total['p99_ms']:.1f} "
        f"max={total['max_ms']:.1f} ms{lag} (loadgen CPU {report['loadgen_cpu_share']:.2f} core)"
    )


def _print_run(name: str, report: Report) -> None:
    print(_line(name, report))
    print(f"  CPU ms per request: {report['cpu_ms_per_request']}")


def _closed(url: str, targets: list[Target], args: argparse.Namespace) -> Report:
    return loadgen.run(
        url, targets, mode="closed", seconds=args.seconds, connections=args.connections
    )


def _open(
    url: str,
    targets: list[Target],
    args: argparse.Namespace,
    rate: float,
    seconds: float,
    window_seconds: float = 0.0,
) -> Report:
    """Requests at a fixed rate, each timed from its scheduled start."""
    return loadgen.run(
        url,
        targets,
        mode="open",
        rate=rate,
        seconds=seconds,
        connections=args.connections,
        window_seconds=window_seconds,
    )


def _measured(pids: dict[str, int], run: Callable[[], Report]) -> Report:
    """A run, with the CPU each process used per request (ms)."""
    before = cpu_snapshot(pids)
    report = run()
    after = cpu_snapshot(pids)
    # The CPU time spans the warm-up too, so it is divided by every request answered in the run.
    count = max(1, report["answered_total"])
    report["cpu_ms_per_request"] = {
        name: round((after[name] - before[name]) * 1000 / count, 3)
        for name in pids
        if after[name] - before[name] > 0.05
    }
    return report


def _pids(stack: Stack) -> dict[str, int]:
    return {name: p.pid for name, p in stack.processes.items()}


def reads(stack: Stack, targets: list[Target], args: argparse.Namespace) -> Report:
    return _measured(_pids(stack), functools.partial(_closed, stack.config.rest_url, targets, args))


def reads_at_rate(
    stack: Stack, targets: list[Target], args: argparse.Namespace, rate: float
) -> Report:
    url = stack.config.rest_url
    return _measured(_pids(stack), functools.partial(_open, url, targets, args, rate, args.seconds))


# The bare service gets the project's own requests — same paths, same Authorization header —
# so the transport carries the same bytes: without the 351-byte token the bare path cost ~0.1 ms
# less per GET (Envoy and grpc.aio both) and its p99 at 1,000 req/s was half.
def bare_reads(baseline: BareGateway, targets: list[Target], args: argparse.Namespace) -> Report:
    run = functools.partial(_closed, baseline.rest_url, targets, args)
    return _measured(baseline.pids, run)


def bare_reads_at_rate(
    baseline: BareGateway, targets: list[Target], args: argparse.Namespace, rate: float
) -> Report:
    run = functools.partial(_open, baseline.rest_url, targets, args, rate, args.seconds)
    return _measured(baseline.pids, run)


def _alternate(
    args: argparse.Namespace, what: str, project: Callable[[], Report], bare: Callable[[], Report]
) -> list[dict[str, Report]]:
    pairs = []
    for n in range(args.pairs):
        pair = {"reads": project()}
        _print_run(f"[{n + 1}] {what}", pair["reads"])
        pair["bare"] = bare()
        _print_run(f"[{n + 1}] bare {what}", pair["bare"])
        pairs.append(pair)
    return pairs


def paired_reads(
    stack: Stack, fresh_targets: Callable[[], list[Target]], args: argparse.Namespace
) -> Report:
    """Project and bare reads in alternation, --pairs times: this machine's speed drifts by a
    quarter over minutes, so each ratio compares runs seconds apart, and the median is taken.
    Then both at each fixed --read-rate, alternating --pairs times too: the bare service's
    latency at that rate, seconds apart from the project's, shows what the transport alone
    (Envoy + transcoder + grpc.aio) on this machine at that moment allows. `fresh_targets` gives
    each phase new tokens."""
    with BareGateway(args.replicas) as baseline:
        targets = fresh_targets()
        pairs = _alternate(
            args,
            "GET /insights/{id} closed loop",
            functools.partial(reads, stack, targets, args),
            functools.partial(bare_reads, baseline, targets, args),
        )
        at_rate = []
        for rate in args.read_rate:
            targets = fresh_targets()
            rate_pairs = _alternate(
                args,
                f"GET /insights/{{id}} at {rate:.0f} req/s",
                functools.partial(reads_at_rate, stack, targets, args, rate),
                functools.partial(bare_reads_at_rate, baseline, targets, args, rate),
            )
            at_rate.append({"rate": rate, "pairs": rate_pairs})
    return {"pairs": pairs, "at_rate": at_rate}


def print_ratios(pairs: list[dict[str, Report]]) -> float | None:
    if any(sum(run["total"]["errors"].values()) for pair in pairs for run in pair.values()):
        # A refused request is cheap and fast: a ratio over errors would flatter.
        print("project / bare throughput: not comparable (a run had errors)")
        return None
    ratios = [pair["reads"]["total"]["rps"] / pair["bare"]["total"]["rps"] for pair in pairs]
    median = float(statistics.median(ratios))
    listed = ", ".join(f"{r:.0%}" for r in ratios)
    print(f"project / bare throughput: median {median:.0%} ({listed})")
    return median


def print_rate_p99s(at_rate: list[Report]) -> None:
    """Per fixed rate, the median p99 of the project's and of the bare service's runs (added to
    each rate's entry as "p99"): with several --read-rate values, where each stops keeping up."""
    for entry in at_rate:
        rate, entry["p99"] = entry["rate"], {}
        for side in ("reads", "bare"):
            p99s = [pair[side]["total"]["p99_ms"] for pair in entry["pairs"]]
            entry["p99"][side] = float(statistics.median(p99s))
            listed = ", ".join(f"{p:.1f}" for p in p99s)
            name = "project" if side == "reads" else "bare"
            print(f"p99 at {rate:.0f} req/s, {name}: median {entry['p99'][side]:.1f} ms ({listed})")


def mixed(stack: Stack, targets: list[Target], args: argparse.Namespace) -> Report:
    pids = {name: p.pid for name, p in stack.processes.items()}
    window = min(60.0, args.soak_seconds / 4)
    before, started = cpu_snapshot(pids), time.monotonic()
    with MemorySampler(pids, interval=min(10.0, window / 2)) as memory:
        report = _open(stack.config.rest_url, targets, args, args.rate, args.soak_seconds, window)
    report["stack_cpu_cores"] = cpu_share(before, cpu_snapshot(pids), time.monotonic() - started)
    report["memory_window_s"] = window
    report["rss_mib_first_last"] = {
        name: [round(first, 1), round(last, 1)]
        for name, (first, last) in memory.first_vs_last(window).items()
    }
    report["rss_samples"] = memory.samples
    return report


def print_mixed(report: Report) -> None:
    print(_line(f"mixed at {report['rate']:.0f} req/s", report))
    for kind, stats in sorted(report["kinds"].items()):
        errors = sum(stats["errors"].values())
        print(
            f"  {kind:8s} n={stats['count']:6d} errors={errors} p50={stats['p50_ms']:.1f} "
            f"p99={stats['p99_ms']:.1f} max={stats['max_ms']:.1f} ms"
        )
    p99s = ", ".join(f"{w['p99_ms']:.0f}" for w in report.get("windows") or [])
    print(f"  p99 per {report['memory_window_s']:.0f} s window: {p99s} ms")
    if report["total"]["errors"]:
        print(f"  errors: {report['total']['errors']} e.g. {report['error_examples']}")
    window = report["memory_window_s"]
    print(f"  RSS MiB, mean of first {window:.0f} s -> last {window:.0f} s:")
    for name, (first, last) in report["rss_mib_first_last"].items():
        print(f"    {name:10s} {first:8.1f} -> {last:8.1f}  ({last - first:+.1f})")


def run_phases(stack: Stack, args: argparse.Namespace) -> Report:
    results: Report = {}
    with httpx.Client(base_url=stack.config.rest_url, timeout=60.0) as client:
        people = prepare(client, args.users, args.insights_per_user)
        print(f"\n== {args.replicas} insight process(es), {args.connections} connections ==")

        def fresh_targets() -> list[Target]:
            # Fresh tokens for each phase: a run with several rates outlives a 15-minute token.
            login(client, people)
            return read_targets(people)

        run_reads, run_bare = "reads" not in args.skip, "bare" not in args.skip
        if run_reads and run_bare:
            results |= paired_reads(stack, fresh_targets, args)
            results["ratio"] = print_ratios(results["pairs"])
            print_rate_p99s(results["at_rate"])
        elif run_reads:
            results["reads"] = reads(stack, fresh_targets(), args)
            _print_run("GET /insights/{id}", results["reads"])
            results["reads_at_rate"] = at_rate = {}
            for rate in args.read_rate:
                at_rate[rate] = reads_at_rate(stack, fresh_targets(), args, rate)
                _print_run(f"GET at {rate:.0f} req/s", at_rate[rate])
        elif run_bare:
            with BareGateway(args.replicas) as baseline:
                results["bare"] = bare_reads(baseline, fresh_targets(), args)
                _print_run("bare GET, same Envoy template", results["bare"])
                results["bare_at_rate"] = at_rate = {}
                for rate in args.read_rate:
                    at_rate[rate] = bare_reads_at_rate(baseline, fresh_targets(), args, rate)
                    _print_run(f"bare GET at {rate:.0f} req/s", at_rate[rate])
        if "mixed" not in args.skip:
            login(client, people)
            results["mixed"] = mixed(stack, mixed_targets(people, args.mix), args)
            print_mixed(results["mixed"])
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--replicas", type=int, default=2, help="insight service processes")
    parser.add_argument("--seconds", type=float, default=20.0, help="each closed-loop run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--read-rate",
        type=float,
        nargs="+",
        default=[1200.0],
        help="fixed-rate reads, req/s; several rates (e.g. 600 800 1000 1200) give a curve",
    )
    parser.add_argument("--rate", type=float, default=200.0, help="mixed workload, req/s")
    parser.add_argument("--soak-seconds", type=float, default=600.0)
    parser.add_argument("--mix", type=parse_mix, default=DEFAULT_MIX)
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--insights-per-user", type=int, default=25)
    parser.add_argument("--pairs", type=int, default=3, help="project/bare closed-loop pairs")
    parser.add_argument("--skip", nargs="*", default=[], choices=["reads", "bare", "mixed"])
    parser.add_argument("--json-out", type=pathlib.Path)
    parser.add_argument(
        "--env", action="append", default=[], metavar="KEY=VALUE", help="extra stack setting"
    )
    args = parser.parse_args()
    loadgen.build()
    results: Report = {"args": {k: str(v) for k, v in vars(args).items()}}
    extra_env = dict(item.partition("=")[::2] for item in args.env)
    with running_stack(insight_replicas=args.replicas, extra_env=extra_env) as stack:
        results |= run_phases(stack, args)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    out = args.json_out or ROOT / "build" / f"bench-load-{stamp}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"full report: {out}")


if __name__ == "__main__":
    main()
