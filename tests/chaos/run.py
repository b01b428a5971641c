"""Runs the fault and load suite and prints what each scenario measured.

Usage: run.py [--soak-seconds N] [SCENARIO ...]   (all scenarios when none is named)

Every scenario runs the real service binary against a PostgreSQL cluster of the
suite's own, on free ports, so faults harm nothing else on the machine. The figures
are also written to target/chaos/report.md.
"""

import argparse
import json
import sys
import time
import traceback

import crash
import hostile
import outage
import shutdown
import soak
import two_instances
from harness import REPO, Cluster, Failure

SCENARIOS = {
    "outage": outage.run,
    "crash": crash.run,
    "shutdown": shutdown.run,
    "two-instances": two_instances.run,
    "hostile": hostile.run,
    "soak": soak.run,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", metavar="SCENARIO",
                        help=f"one of {', '.join(SCENARIOS)}; all when none is named")
    parser.add_argument("--soak-seconds", type=int, default=60,
                        help="how long the soak runs at half capacity (default 60)")
    args = parser.parse_args()
    unknown = [name for name in args.scenarios if name not in SCENARIOS]
    if unknown:
        parser.error(f"no scenario is called {', '.join(unknown)}; they are {', '.join(SCENARIOS)}")
    soak.SECONDS = args.soak_seconds
    names = args.scenarios or list(SCENARIOS)
    cluster = Cluster()
    report, failed = [], []
    try:
        for name in names:
            started = time.monotonic()
            print(f"chaos: {name} ...", flush=True)
            try:
                figures = SCENARIOS[name](cluster)
                outcome = "passed"
            except Failure as failure:
                figures, outcome = {}, f"FAILED: {failure}"
                failed.append(name)
            except Exception:
                figures, outcome = {}, f"FAILED with an error:\n{traceback.format_exc()}"
                failed.append(name)
            seconds = time.monotonic() - started
            print(f"chaos: {name} {outcome} ({seconds:.0f} s)", flush=True)
            print(json.dumps(figures, indent=2), flush=True)
            report.append((name, outcome, seconds, figures))
    finally:
        cluster.destroy()
    write_report(report)
    print(f"chaos: {len(names) - len(failed)} of {len(names)} scenarios passed")
    return 1 if failed else 0


def write_report(report):
    lines = ["# Fault and load suite: the last run", ""]
    for name, outcome, seconds, figures in report:
        lines += [f"## {name}: {outcome.splitlines()[0]} ({seconds:.0f} s)", ""]
        lines += [f"- {key}: {value}" for key, value in flatten(figures)]
        lines.append("")
    path = REPO / "target" / "chaos" / "report.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))


def flatten(figures, prefix=""):
    for key, value in figures.items():
        if isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
            yield from flatten(value, f"{prefix}{key}: ")
        else:
            yield f"{prefix}{key}", value


if __name__ == "__main__":
    sys.exit(main())
