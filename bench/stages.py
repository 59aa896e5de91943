#!/usr/bin/env python3
"""Where a server's CPU goes, by request stage, from `perf script` output.

Usage:
  perf script --no-inline -F comm,tid,period,ip,sym,dso | python3 bench/stages.py \
      [--cpu-seconds S --requests N] [--folded FILE] [--json FILE] [--title TEXT]
  python3 bench/stages.py lever BARE.json PICKET.json [--ratio 0.6]
(bench/profile.sh runs both; the input wants whole stacks: `perf record --call-graph dwarf`.)

Each sample's stack is walked from the leaf towards the root; the first frame whose symbol
matches a rule decides the sample's stage (RULES below, tried in order on each frame; any frame
in the SQLite library decides `store` by its object, DSO_RULES). Frames no rule matches are
neutral: shared code (the allocator, memcpy, core, std, bytes, http types, serde_json's parser,
chrono, uuid, ...) never decides, so its time goes to the stage that called it. A rule whose
stage is None makes a frame neutral although a later rule would match it: the wrappers around
a whole request (tracing's `Instrumented`, tokio's task-local scope). Kernel frames never match
either: a system call is charged to the user frame that made it (a socket write from hyper is
HTTP, a `pread` inside SQLite is store). Samples whose stack matches nothing are
`runtime/other` (tokio's scheduler and I/O driver, thread parking, `epoll_wait`, waking tasks).
Only real frames are seen (`--no-inline`): code inlined into a function counts as that
function's.

The table prints each stage's share of the sampled CPU time (weighted by the sample period)
and, given the server's CPU seconds over the profiled window and the requests served in it,
CPU microseconds per request = share x CPU seconds / requests. Also printed: the hottest
functions by self time and, per stage, the frames that decided most of its samples, so the
rules can be checked against the data. --folded writes the stacks folded for a flame graph
(`stage;root;...;leaf count`, one line per distinct stack); --json the figures for `lever`.

`lever` compares a bare-handler profile with Picket's: how much server CPU per request Picket
must shed to reach RATIO of the bare handler's throughput, and each stage's excess over the
bare handler. Model: on a CPU-bound machine shared by the server and the load generator,
throughput is proportional to 1 / (server + generator CPU per request).
"""

import argparse
import json
import re
import sys
from collections import Counter, defaultdict

HTTP = "HTTP"
AUTH = "authentication"
ROUTING = "routing"
QUERY = "query parsing"
STORE = "store"
RENDER = "rendering"
LOGGING = "logging"
OTHER = "runtime/other"
STAGES = [HTTP, AUTH, ROUTING, QUERY, STORE, RENDER, LOGGING, OTHER]

# (pattern, stage or None for neutral), tried in this order on each frame's symbol
# (`re.search`, so a pattern may match inside `<A as B>::f` or `drop_in_place<T>`).
RULES = [
    # Neutral wrappers around whole requests: they would otherwise catch the leftovers of
    # every stage below them.
    (r"tracing::instrument::", None),
    (r"tokio::task::task_local", None),
    # Logging: tracing spans and events, the subscriber, the request journal, metrics.
    (r"tracing_subscriber::|tracing_core::|tracing_log::", LOGGING),
    (r"\btracing::(span|event|dispatcher|__macro_support|level_filters)", LOGGING),
    (r"picket_server::(journal|request_scope|metrics|audit)::", LOGGING),
    (r"picket_server::dispatch::journal\b", LOGGING),
    (r"prometheus_client::", LOGGING),
    # Authentication: the bearer token check (with its cache), permissions, throttling.
    (r"picket_auth::|jsonwebtoken::|\bring::|\bring_core_|\brsa::", AUTH),
    (r"picket_server::dispatch::(authorize|missing_permission)\b", AUTH),
    (r"picket_server::throttle::|governor::", AUTH),
    # Query parsing: OData query options, the entity schemas they are checked against.
    (r"picket_odata::", QUERY),
    (r"picket_server::collection::(CollectionQuery::parse|entity_query)\b", QUERY),
    (r"picket_domain::schema::", QUERY),
    # Rendering: entities and pages to JSON, the Graph response, its HTTP headers.
    (r"picket_server::(render|collection|response)::", RENDER),
    (r"picket_server::context::RequestContext::", RENDER),  # @odata.context and nextLink URLs
    (r"picket_server::http::to_http", RENDER),
    (r"serde_json::ser::|\bserde::ser::|as serde::ser::Serialize", RENDER),
    # Store: the store crate, SQLite through rusqlite, the connection pool.
    (r"picket_store::|rusqlite::|libsqlite3_sys::|deadpool", STORE),
    (r"^sqlite3", STORE),
    # (and any frame in the SQLite library itself: see DSO_RULES)
    # Routing: from the Graph request to its handler (dispatch, routes, the handlers' own
    # code between store and rendering, the onboarding gate).
    (r"picket_server::(routes|dispatch|handlers|onboarding|migrations)::", ROUTING),
    # HTTP: hyper and the framework, the server's edge (connection wrapper, request ids,
    # the front middleware, turning an HTTP request into a Graph one), socket I/O.
    (r"\bhyper::|hyper_util::|\bh2::|httparse::|\baxum::|axum_core::|\btower::|tower_http::", HTTP),
    (r"picket_server::(edge|http)::|picket_server::context::RequestIds::", HTTP),
    (r"tokio::net::|tokio::io::|\bmio::net::", HTTP),
]
COMPILED = [(re.compile(p), stage) for p, stage in RULES]
# Frames in these shared objects decide by the object alone (the system SQLite's internal
# functions have names of every kind).
DSO_RULES = [(re.compile(r"libsqlite3"), STORE)]


def classify(frames, dsos):
    """(stage, deciding symbol) for one stack, frames (and their objects) leaf first."""
    for sym, dso in zip(frames, dsos):
        for pattern, stage in DSO_RULES:
            if pattern.search(dso):
                return stage, sym
        for pattern, stage in COMPILED:
            if pattern.search(sym):
                if stage is None:
                    break
                return stage, sym
    return OTHER, "(no matching frame)"


HASH = re.compile(r"::h[0-9a-f]{16}$")


def clean(sym):
    sym = HASH.sub("", sym.strip())
    return sym.replace(";", ",") or "[unknown]"


def parse(lines):
    """Yields (period, frames leaf first, dsos leaf first) per sample of `perf script`."""
    period, frames, dsos = None, [], []
    for raw in lines:
        line = raw.rstrip("\n")
        if not line.strip():
            if period is not None:
                yield period, frames, dsos
            period, frames, dsos = None, [], []
            continue
        if not line[0].isspace():
            if period is not None:
                yield period, frames, dsos
            fields = line.split()
            try:
                period = int(fields[-1])
            except (ValueError, IndexError):
                period = 1
            frames, dsos = [], []
            continue
        # "\t   addr symbol (dso)"
        body = line.strip()
        parts = body.split(None, 1)
        rest = parts[1] if len(parts) > 1 else "[unknown]"
        dso = ""
        if rest.endswith(")") and " (" in rest:
            rest, dso = rest.rsplit(" (", 1)
            dso = dso[:-1]
        frames.append(clean(rest))
        dsos.append(dso)
    if period is not None:
        yield period, frames, dsos


def short(sym, width=100):
    return sym if len(sym) <= width else sym[: width - 1] + "…"


def analyse(args):
    by_stage = Counter()
    deciders = defaultdict(Counter)
    self_time = Counter()
    user_self = Counter()
    stage_of_leaf = {}
    stage_of_user = {}
    folded = Counter()
    total = 0
    samples = 0
    for period, frames, dsos in parse(sys.stdin):
        if not frames:
            continue
        samples += 1
        total += period
        stage, decider = classify(frames, dsos)
        by_stage[stage] += period
        deciders[stage][decider] += period
        leaf = frames[0]
        self_time[leaf] += period
        stage_of_leaf.setdefault(leaf, Counter())[stage] += period
        # The leaf-most frame outside the kernel: system calls charged to their caller.
        user = next(
            (f for f, d in zip(frames, dsos) if "kernel" not in d and not d.startswith("[")),
            leaf,
        )
        user_self[user] += period
        stage_of_user.setdefault(user, Counter())[stage] += period
        if args.folded:
            folded[";".join([stage] + frames[::-1])] += 1
    if samples == 0:
        sys.exit("stages.py: no samples in the input (is it `perf script` output?)")

    per_request = None
    if args.cpu_seconds is not None and args.requests:
        per_request = args.cpu_seconds / args.requests * 1e6
    if args.title:
        print(args.title)
    sampled_s = total / 1e9
    print(f"{samples} samples, {sampled_s:.2f} s of CPU sampled", end="")
    if args.cpu_seconds is not None:
        print(f"; the server used {args.cpu_seconds:.2f} s of CPU (/proc)", end="")
    if args.requests:
        print(f" for {args.requests:.0f} requests", end="")
    print()
    if per_request is not None:
        print(f"server CPU per request: {per_request:.1f} µs")
    print()
    print(f"| stage | share of samples | CPU µs per request |")
    print(f"|---|---:|---:|")
    figures = {}
    for stage in STAGES:
        share = by_stage[stage] / total
        us = share * per_request if per_request is not None else None
        figures[stage] = {"share": share, "us": us}
        print(f"| {stage} | {share * 100:.1f} % | {'-' if us is None else f'{us:.1f}'} |")
    if per_request is not None:
        print(f"| **total** | 100 % | {per_request:.1f} |")

    def top(counter, stage_of, n, title):
        print()
        print(title)
        for sym, period in counter.most_common(n):
            stages = stage_of.get(sym)
            stage = stages.most_common(1)[0][0] if stages else ""
            us = f"{period / total * per_request:6.2f} µs" if per_request is not None else ""
            print(f"  {period / total * 100:5.1f} % {us}  {short(sym)}" + (f"  [{stage}]" if stage else ""))

    top(self_time, stage_of_leaf, args.top, f"hottest functions by self time (leaf frame, kernel included):")
    top(user_self, stage_of_user, args.top, f"hottest user-space functions (kernel time charged to the calling frame):")
    print()
    print("frames that decided each stage (top 5 per stage):")
    for stage in STAGES:
        if not deciders[stage]:
            continue
        print(f"  {stage}:")
        for sym, period in deciders[stage].most_common(5):
            print(f"    {period / total * 100:5.1f} %  {short(sym)}")

    if args.folded:
        with open(args.folded, "w") as f:
            for stack, count in sorted(folded.items()):
                f.write(f"{stack} {count}\n")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {
                    "title": args.title,
                    "samples": samples,
                    "cpu_seconds": args.cpu_seconds,
                    "requests": args.requests,
                    "rate": args.rate,
                    "generator_us": args.generator_us,
                    "cpu_us_per_request": per_request,
                    "stages": figures,
                    "top": [
                        {"function": s, "share": p / total}
                        for s, p in self_time.most_common(args.top)
                    ],
                },
                f,
                indent=1,
            )


def lever(args):
    bare = json.load(open(args.bare))
    picket = json.load(open(args.picket))
    for name, d in (("bare", bare), ("picket", picket)):
        if not d.get("cpu_us_per_request") or not d.get("rate") or d.get("generator_us") is None:
            sys.exit(f"stages.py lever: the {name} profile lacks CPU, rate or generator figures")
    s_b, g_b = bare["cpu_us_per_request"], bare["generator_us"]
    s_p, g_p = picket["cpu_us_per_request"], picket["generator_us"]
    ratio = picket["rate"] / bare["rate"]
    # Throughput ~ 1 / (server + generator CPU per request): the ratio asked for needs
    # s_p + g_p <= (s_b + g_b) / ratio.
    target = (s_b + g_b) / args.ratio - g_p
    # The generator's cost per request is higher against a slower server (fewer answers per
    # wake-up); were it to fall to what it was against the bare handler:
    target_fast = (s_b + g_b) / args.ratio - g_b
    model = (s_b + g_b) / (s_p + g_p)
    print(
        f"measured: Picket {picket['rate']:.0f} req/s, bare handler {bare['rate']:.0f} req/s: "
        f"{ratio:.2f} of bare (the CPU model predicts {model:.2f})"
    )
    print(
        f"server CPU per request: Picket {s_p:.1f} µs, bare {s_b:.1f} µs; "
        f"load generator {g_p:.1f} and {g_b:.1f} µs"
    )
    print(
        f"{args.ratio} of bare needs Picket's server CPU per request at or below {target:.1f} µs: "
        f"{max(s_p - target, 0):.1f} µs ({max(s_p - target, 0) / s_p * 100:.0f} %) less than now"
    )
    print(
        f"  (at or below {target_fast:.1f} µs, {max(s_p - target_fast, 0):.1f} µs less, if the load "
        f"generator's CPU per request fell to the bare run's {g_b:.1f} µs)"
    )
    print()
    print("| stage | Picket µs | bare µs | Picket − bare µs |")
    print("|---|---:|---:|---:|")
    rows = []
    for stage in STAGES:
        p = picket["stages"][stage]["us"]
        b = bare["stages"][stage]["us"]
        rows.append((p - b, stage, p, b))
    for excess, stage, p, b in sorted(rows, reverse=True):
        print(f"| {stage} | {p:.1f} | {b:.1f} | {excess:+.1f} |")


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "lever":
        parser = argparse.ArgumentParser(prog="stages.py lever")
        parser.add_argument("bare")
        parser.add_argument("picket")
        parser.add_argument("--ratio", type=float, default=0.6)
        lever(parser.parse_args(sys.argv[2:]))
        return
    parser = argparse.ArgumentParser(description="CPU by request stage from `perf script`")
    parser.add_argument("--cpu-seconds", type=float, help="server CPU seconds over the window")
    parser.add_argument("--requests", type=float, help="requests served over the window")
    parser.add_argument("--rate", type=float, help="requests per second (for lever)")
    parser.add_argument("--generator-us", type=float, help="load generator CPU µs per request")
    parser.add_argument("--folded", help="write folded stacks here")
    parser.add_argument("--json", help="write the figures here")
    parser.add_argument("--title", help="first line of the report")
    parser.add_argument("--top", type=int, default=15, help="hottest functions listed")
    analyse(parser.parse_args())


if __name__ == "__main__":
    main()
