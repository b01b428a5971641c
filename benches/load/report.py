"""Prints scripts/bench's tables, and whether each target of BENCHMARKS.md is met.

Usage: report.py RESULTS_FILE PEAK_RSS_KIB
RESULTS_FILE has one JSON object a line: the scenario's `name`, the `stage` (the number
of status updates in the database when it ran), what scenario.lua or
pgbench_result.py printed, and for a scenario the service's peak memory during it
(`peak_rss_kib`). PEAK_RSS_KIB is the service's peak at the end (since the last
scenario, where the peak could be reset; since it started where it could not).
"""

import json
import sys

READS = ["get_goal", "list_goals", "document", "document_all", "sheet_csv"]
# Read at the main stage only: not in the table of growth.
LARGEST = ["document_huge"]
ALONE = ["document_alone", "sheet_csv_alone"]
WRITES = ["post_update", "patch_goal"]
WRITES_ALONE = ["post_update_alone", "post_update_after_bulk"]
OBSERVED = ["get_goal_plain", "get_goal_observed"]
LABELS = {
    "get_goal": "GET a goal by id (random)",
    "list_goals": "GET 50 goals of a plan, status filter",
    "document": "GET the document of a 1,000-goal plan",
    "document_all": "  the same, every update, no token",
    "sheet_csv": "GET a tracking sheet as CSV",
    "document_huge": "GET the 5,000-goal document, all updates, no token",
    "document_alone": "  the same document, one client",
    "sheet_csv_alone": "  the same sheet, one client",
    "post_update": "POST a status update (random goal)",
    "post_update_alone": "  the same POST, one client",
    "post_update_after_bulk": "  one client, after 10,000 bulk updates",
    "get_goal_plain": "GET a goal, warnings only, no metrics",
    "get_goal_observed": "GET a goal, JSON access lines, metrics",
    "patch_goal": "PATCH a goal with If-Match",
    "static": "GET /healthz (HTTP alone)",
    "pgbench_select": "pgbench -S (select only)",
    "pgbench_tpcb": "pgbench TPC-B-like",
}


def rate(result):
    return result["requests"] / (result["duration_us"] / 1e6)


def errors(result):
    return result["socket_errors"] + result["http_errors"]


def main():
    results = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
    peak_rss_mib = max([int(sys.argv[2])] + [r.get("peak_rss_kib", 0) for r in results]) / 1024
    main_stage = next(r["stage"] for r in results if r["name"] == "pgbench_select")
    main = {r["name"]: r for r in results if r["stage"] == main_stage}
    select, tpcb, static = main["pgbench_select"], main["pgbench_tpcb"], main["static"]

    print(f"\nWith {main_stage} status updates in the database:\n")
    print(f"{'scenario':<52} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'vs pgbench':>11} {'vs /healthz':>12} {'peak MiB':>9}")
    for name in ["static", *READS, *LARGEST, *ALONE, *WRITES, *WRITES_ALONE, "pgbench_select", "pgbench_tpcb"]:
        r = main.get(name)
        if r is None:
            continue
        baseline = select if name in READS + LARGEST else tpcb if name in WRITES else None
        versus = f"{rate(r) / rate(baseline):.2f}x" if baseline else ""
        versus_static = f"{rate(r) / rate(static):.2f}x" if name in READS + LARGEST + WRITES else ""
        peak = f"{r['peak_rss_kib'] / 1024:.1f}" if "peak_rss_kib" in r else ""
        print(f"{LABELS[name]:<52} {rate(r):>9.0f} {r['p50_us'] / 1e3:>8.2f} {r['p99_us'] / 1e3:>8.2f} "
              f"{errors(r):>7} {versus:>11} {versus_static:>12} {peak:>9}")
    for r in results:
        if r.get("failures"):
            print(f"  {LABELS.get(r['name'], r['name'])} at {r['stage']}: answers by status {r['failures']}")
    feed = main.get("feed_latency")
    if feed:
        print(f"\nChange feed, from a change to the long poll's answer, under the POST load: "
              f"{feed['events']} events, p50 {feed['p50_us'] / 1e3:.1f} ms, p99 {feed['p99_us'] / 1e3:.1f} ms, "
              f"largest {feed['max_us'] / 1e3:.1f} ms")
    # Interleaved rounds, each with the service restarted: their sums compare.
    plain = [r for r in results if r["name"] == "get_goal_plain"]
    observed = [r for r in results if r["name"] == "get_goal_observed"]
    if plain and observed:
        print("\nGET a goal, rounds interleaved (req/s): plain "
              + ", ".join(f"{rate(r):.0f}" for r in plain) + "; observed "
              + ", ".join(f"{rate(r):.0f}" for r in observed)
              + f"; observed / plain {sum(map(rate, observed)) / sum(map(rate, plain)):.3f}")
    print(f"\nPeak resident memory of the service: {peak_rss_mib:.1f} MiB")

    stages = sorted({r["stage"] for r in results})
    print("\nReads as the status updates grow (req/s, p50 / p99 ms):\n")
    print(f"{'scenario':<40}" + "".join(f"{stage:>26}" for stage in stages))
    for name in READS:
        cells = []
        for stage in stages:
            r = next((r for r in results if r["name"] == name and r["stage"] == stage), None)
            cells.append(f"{rate(r):>7.0f}  {r['p50_us'] / 1e3:>6.2f} / {r['p99_us'] / 1e3:>6.2f}" if r else "")
        print(f"{LABELS[name]:<40}" + "".join(f"{cell:>26}" for cell in cells))
    peaks = []
    for stage in stages:
        measured = [r for r in results if r["stage"] == stage and "peak_rss_kib" in r]
        if measured:
            top = max(measured, key=lambda r: r["peak_rss_kib"])
            peaks.append(f"{top['peak_rss_kib'] / 1024:.1f} MiB ({top['name']})")
    if peaks:
        print(f"{'peak memory in a scenario':<40}" + "".join(f"{cell:>26}" for cell in peaks))

    served = [r for r in results if "requests" in r and not r["name"].startswith("pgbench")]
    goal, post, document = main["get_goal"], main["post_update"], main["document_alone"]
    shared = main["document"]
    huge = main.get("document_huge")
    targets = [
        ("GET a goal: at least 50% of pgbench -S", rate(goal) >= 0.5 * rate(select),
         f"{rate(goal) / rate(select):.0%}"),
        ("GET a goal: p99 under 10 ms", goal["p99_us"] < 10_000, f"{goal['p99_us'] / 1e3:.2f} ms"),
        ("POST a status update: at least pgbench TPC-B", rate(post) >= rate(tpcb),
         f"{rate(post) / rate(tpcb):.2f}x"),
        ("POST a status update: at least 0.5x pgbench TPC-B", rate(post) >= 0.5 * rate(tpcb),
         f"{rate(post) / rate(tpcb):.2f}x"),
        ("PATCH a goal with If-Match: at least 0.3x TPC-B",
         rate(main["patch_goal"]) >= 0.3 * rate(tpcb), f"{rate(main['patch_goal']) / rate(tpcb):.2f}x"),
        ("One POST, one client: p50 at most 3 ms", main["post_update_alone"]["p50_us"] <= 3_000,
         f"{main['post_update_alone']['p50_us'] / 1e3:.2f} ms"),
        ("One POST after a bulk write: within 1.5x of before",
         main["post_update_after_bulk"]["p50_us"] <= 1.5 * main["post_update_alone"]["p50_us"],
         f"{main['post_update_after_bulk']['p50_us'] / main['post_update_alone']['p50_us']:.2f}x"),
        ("Change feed: p99 from change to answer under 100 ms", feed is not None and feed["p99_us"] < 100_000,
         f"{feed['p99_us'] / 1e3:.1f} ms" if feed else "not measured"),
        ("Logs and metrics cost at most 5% of GET a goal",
         bool(plain and observed) and sum(map(rate, observed)) >= 0.95 * sum(map(rate, plain)),
         f"{sum(map(rate, observed)) / sum(map(rate, plain)):.3f}x" if plain and observed else "not measured"),
        ("Plan document of 1,000 goals: p50 under 15 ms (alone)", document["p50_us"] < 15_000,
         f"{document['p50_us'] / 1e3:.2f} ms"),
        ("Plan document of 1,000 goals: p99 under 50 ms (64 clients)", shared["p99_us"] < 50_000,
         f"{shared['p99_us'] / 1e3:.2f} ms"),
        ("Peak RSS under 64 MiB", peak_rss_mib < 64, f"{peak_rss_mib:.1f} MiB"),
        ("Peak RSS under 128 MiB: 64 anonymous reads of the largest plan",
         huge is not None and huge["peak_rss_kib"] < 128 * 1024,
         f"{huge['peak_rss_kib'] / 1024:.1f} MiB" if huge else "not measured"),
        ("No errors in any scenario",
         all(errors(r) == 0 for r in served),
         f"{sum(errors(r) for r in served)} errors"),
    ]
    print("\nTargets:\n")
    for label, met, figure in targets:
        print(f"  {'met    ' if met else 'NOT MET'}  {label:<48} {figure}")


if __name__ == "__main__":
    main()
