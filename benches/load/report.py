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
ALONE = ["document_alone", "sheet_csv_alone"]
WRITES = ["post_update", "patch_goal"]
LABELS = {
    "get_goal": "GET a goal by id (random)",
    "list_goals": "GET 50 goals of a plan, status filter",
    "document": "GET the document of a 1,000-goal plan",
    "document_all": "  the same, every update, no token",
    "sheet_csv": "GET a tracking sheet as CSV",
    "document_alone": "  the same document, one client",
    "sheet_csv_alone": "  the same sheet, one client",
    "post_update": "POST a status update (random goal)",
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
    print(f"{'scenario':<40} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'vs pgbench':>11} {'vs /healthz':>12} {'peak MiB':>9}")
    for name in ["static", *READS, *ALONE, *WRITES, "pgbench_select", "pgbench_tpcb"]:
        r = main.get(name)
        if r is None:
            continue
        baseline = select if name in READS else tpcb if name in WRITES else None
        versus = f"{rate(r) / rate(baseline):.2f}x" if baseline else ""
        versus_static = f"{rate(r) / rate(static):.2f}x" if name in READS + WRITES else ""
        peak = f"{r['peak_rss_kib'] / 1024:.1f}" if "peak_rss_kib" in r else ""
        print(f"{LABELS[name]:<40} {rate(r):>9.0f} {r['p50_us'] / 1e3:>8.2f} {r['p99_us'] / 1e3:>8.2f} "
              f"{errors(r):>7} {versus:>11} {versus_static:>12} {peak:>9}")
    for r in results:
        if r.get("failures"):
            print(f"  {LABELS.get(r['name'], r['name'])} at {r['stage']}: answers by status {r['failures']}")
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

    goal, post, document = main["get_goal"], main["post_update"], main["document_alone"]
    shared = main["document"]
    targets = [
        ("GET a goal: at least 50% of pgbench -S", rate(goal) >= 0.5 * rate(select),
         f"{rate(goal) / rate(select):.0%}"),
        ("GET a goal: p99 under 10 ms", goal["p99_us"] < 10_000, f"{goal['p99_us'] / 1e3:.2f} ms"),
        ("POST a status update: at least pgbench TPC-B", rate(post) >= rate(tpcb),
         f"{rate(post) / rate(tpcb):.2f}x"),
        ("Plan document of 1,000 goals: p50 under 15 ms (alone)", document["p50_us"] < 15_000,
         f"{document['p50_us'] / 1e3:.2f} ms"),
        ("Plan document of 1,000 goals: p99 under 50 ms (64 clients)", shared["p99_us"] < 50_000,
         f"{shared['p99_us'] / 1e3:.2f} ms"),
        ("Peak RSS under 64 MiB", peak_rss_mib < 64, f"{peak_rss_mib:.1f} MiB"),
        ("No errors in any scenario",
         all(errors(r) == 0 for r in results if not r["name"].startswith("pgbench")),
         f"{sum(errors(r) for r in results if not r['name'].startswith('pgbench'))} errors"),
    ]
    print("\nTargets:\n")
    for label, met, figure in targets:
        print(f"  {'met    ' if met else 'NOT MET'}  {label:<48} {figure}")


if __name__ == "__main__":
    main()
